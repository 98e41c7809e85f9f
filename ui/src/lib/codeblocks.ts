// Copy and Run buttons on the code blocks of a lab step, added to the DOM after the markdown
// was sanitized (never as HTML that goes through the sanitizer): the buttons are made here
// with createElement, and they act on the block's text as its author wrote it in the fence
// (RenderedMarkdown.blocks), not on whatever the sanitized HTML shows. A block is one only if
// its <code> carries this render's marker (see renderMarkdownWithCode).
import { t } from "./i18n";
import type { CodeBlock, RenderedMarkdown } from "./markdown";

/** A code block found in the DOM: its <pre>, and the block as written. */
export interface FoundBlock {
  pre: HTMLElement;
  block: CodeBlock;
  index: number;
}

/** The code blocks of `rendered` under `root`, in order; elements without this render's marker are not among them. */
export function findCodeBlocks(root: ParentNode, rendered: RenderedMarkdown): FoundBlock[] {
  const found: FoundBlock[] = [];
  const prefix = `${rendered.marker}-`;
  for (const code of Array.from(root.querySelectorAll("pre > code[data-code-block]"))) {
    const value = code.getAttribute("data-code-block") ?? "";
    if (!value.startsWith(prefix)) continue;
    const rest = value.slice(prefix.length);
    if (!/^\d+$/.test(rest)) continue;
    const index = Number(rest);
    const block = rendered.blocks[index];
    const pre = code.parentElement;
    if (!block || !pre || found.some((f) => f.index === index)) continue;
    found.push({ pre, block, index });
  }
  return found;
}

/**
 * What Run types: the block's lines as the Enter key sends them (`\r`), ending with one, so the
 * last command runs too.
 */
export function runInput(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").replace(/\n+$/, "");
  return `${lines.split("\n").join("\r")}\r`;
}

/** What the buttons do: copy a block's text, and (a learner's own live lab only) run it. */
export interface CodeActions {
  copy: (text: string) => Promise<void>;
  run: ((text: string) => void) | null;
}

function button(label: string, testid: string, title: string): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "small code-action";
  b.textContent = label;
  b.title = title;
  b.setAttribute("data-testid", testid);
  return b;
}

/**
 * Adds a Copy button to every code block of `rendered` under `root`, and a Run button to those
 * marked `exec` when `actions.run` is given. Buttons added before are replaced (the actions may have changed).
 */
export function addCodeButtons(root: ParentNode, rendered: RenderedMarkdown, actions: CodeActions): number {
  let added = 0;
  for (const { pre, block, index } of findCodeBlocks(root, rendered)) {
    for (const old of Array.from(pre.children).filter((c) => c.classList.contains("code-actions"))) old.remove();
    const bar = document.createElement("div");
    bar.className = "code-actions";
    bar.setAttribute("data-block", String(index));
    const copy = button(t("lab_code.copy"), "code-copy", t("lab_code.copy_title"));
    copy.addEventListener("click", () => {
      void actions.copy(block.text).then(
        () => (copy.textContent = t("lab_code.copied")),
        () => (copy.textContent = t("lab_code.copy_failed")),
      );
      setTimeout(() => (copy.textContent = t("lab_code.copy")), 1500);
    });
    bar.appendChild(copy);
    if (block.exec && actions.run) {
      const run = actions.run;
      const go = button(t("lab_code.run"), "code-run", t("lab_code.run_title"));
      go.addEventListener("click", () => run(runInput(block.text)));
      bar.appendChild(go);
    }
    pre.classList.add("has-actions");
    pre.insertBefore(bar, pre.firstChild);
    added += 1;
  }
  return added;
}
