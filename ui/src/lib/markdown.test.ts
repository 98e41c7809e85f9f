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

  // Issue 14, finding 6: only a plain HTML <a> keeps an address (the app opens it after the
  // learner confirms); every other element that could navigate the window loses its link.
  it("keeps the address of a plain link, shown in full, for the app to confirm", () => {
    const html = renderMarkdown('[docs](https://pandas.pydata.org/docs) <a href="https://x.example/" target="_blank">x</a>');
    expect(html).toContain('href="https://pandas.pydata.org/docs"');
    expect(html).toContain('title="https://pandas.pydata.org/docs"');
    expect(html).not.toContain("target=");
  });

  it("keeps links to lessons and courses of packages and the app's own links, and no look-alike", () => {
    const html = renderMarkdown(
      "[quiz](../01-basics/01-welcome.md) [course](../../git-basics/) " +
        "[app](skilltrack://course/0193c8e4-7d1a-7c3e-9f00-0123456789ab) " +
        "[odd](skilltrack://course/x) [up](../../../../../../etc/x.md) [q](../../git-basics/?a=1)",
    );
    expect(html).toContain('href="../01-basics/01-welcome.md"');
    expect(html).toContain('href="../../git-basics/"');
    expect(html).toContain('href="skilltrack://course/0193c8e4-7d1a-7c3e-9f00-0123456789ab"');
    expect(html).not.toContain("skilltrack://course/x");
    expect(html).not.toContain("etc/x.md");
    expect(html).not.toContain("?a=1");
    // The app's scheme is for links only: never a picture's address.
    expect(renderMarkdown('<img alt="x" src="skilltrack://course/0193c8e4-7d1a-7c3e-9f00-0123456789ab">')).not.toContain("skilltrack:");
  });

  it("strips the link of an SVG <a>", () => {
    const html = renderMarkdown('<svg><a href="https://evil.example/"><text>Sign in again</text></a></svg>');
    expect(html).toContain("Sign in again");
    expect(html).not.toContain("evil.example");
  });

  it("strips the xlink:href of an SVG <a>", () => {
    const html = renderMarkdown('<svg><a xlink:href="https://evil.example/"><text>Sign in again</text></a></svg>');
    expect(html).toContain("Sign in again");
    expect(html).not.toContain("evil.example");
  });

  it("strips the link of an image map's <area>", () => {
    const html = renderMarkdown(
      '<map name="m"><area shape="rect" coords="0,0,99,99" href="https://evil.example/"></map><img usemap="#m" src="a.png">',
    );
    expect(html).not.toContain("evil.example");
  });

  it("drops javascript: and data: links altogether", () => {
    for (const markdown of [
      "[click](javascript:alert(1))",
      '<a href="jav&#x09;ascript:alert(1)">click</a>',
      "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      '<svg><a href="data:text/html,<script>alert(1)</script>"><text>click</text></a></svg>',
    ]) {
      const html = renderMarkdown(markdown);
      expect(html, markdown).toContain("click");
      expect(html, markdown).not.toMatch(/href=|javascript:|data:/);
    }
  });

  it("lets no other element load or submit to an address", () => {
    const html = renderMarkdown(
      '<button formaction="https://evil.example/">b</button><video src="http://127.0.0.1:9/x.webm"></video>' +
        '<audio><source src="http://127.0.0.1:9/a.ogg"></audio>',
    );
    expect(html).not.toContain("evil.example");
    expect(html).not.toContain("127.0.0.1");
  });

  it("escapes code in languages it does not highlight", () => {
    const html = renderMarkdown("```cobol\n<b>x</b>\n```");
    expect(html).toContain("&lt;b&gt;x");
    expect(html).not.toContain("<b>");
  });
});
