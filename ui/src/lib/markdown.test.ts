// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./markdown";

describe("lesson markdown", () => {
  it("renders headings, lists and highlighted code", () => {
    const html = renderMarkdown("# Pandas\n\n- one\n\n```python\nimport pandas as pd\n```\n");
    expect(html).toContain("<h1>Pandas</h1>");
    expect(html).toContain("<li>one</li>");
    expect(html).toContain('class="hljs language-python"');
    expect(html).toContain('<span class="hljs-keyword">import</span>');
  });

  it("removes scripts, event handlers and javascript: links", () => {
    const html = renderMarkdown(
      '<script>alert(1)</script>\n\n<img src="x" onerror="alert(2)">\n\n[click](javascript:alert(3))',
    );
    expect(html).not.toContain("<script");
    expect(html).not.toContain("onerror");
    expect(html).not.toContain("javascript:");
  });

  it("keeps links from navigating the app away", () => {
    const html = renderMarkdown("[docs](https://pandas.pydata.org)");
    expect(html).not.toContain("href=");
    expect(html).toContain('title="https://pandas.pydata.org"');
  });

  it("escapes code in languages it does not highlight", () => {
    const html = renderMarkdown("```cobol\n<b>x</b>\n```");
    expect(html).toContain("&lt;b&gt;x");
    expect(html).not.toContain("<b>");
  });
});
