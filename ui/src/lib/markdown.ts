// Lesson markdown to safe HTML: marked renders, highlight.js colours code (core + a few
// languages, to keep the bundle small), DOMPurify removes anything executable. Links never
// navigate the app's window away: only a plain HTML <a> keeps an address, and only one the app
// will follow (lib/links.ts); clicking it asks the learner first (LinkConfirm.svelte). Every
// other element that could navigate, submit or load from an address loses it: SVG's <a>
// (`href`, `xlink:href`), image maps' <area>, `formaction`, media `src`.
import { Marked } from "marked";
import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import yaml from "highlight.js/lib/languages/yaml";
import { linkDestination } from "./links";

hljs.registerLanguage("bash", bash);
hljs.registerLanguage("shell", bash);
hljs.registerLanguage("sh", bash);
hljs.registerLanguage("javascript", javascript);
hljs.registerLanguage("js", javascript);
hljs.registerLanguage("json", json);
hljs.registerLanguage("python", python);
hljs.registerLanguage("py", python);
hljs.registerLanguage("rust", rust);
hljs.registerLanguage("sql", sql);
hljs.registerLanguage("typescript", typescript);
hljs.registerLanguage("ts", typescript);
hljs.registerLanguage("yaml", yaml);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A fenced code block of rendered markdown: its text exactly as written, and its info string's meaning. */
export interface CodeBlock {
  text: string;
  language: string;
  /** The info string says `exec` (```` ```bash exec ````): the block may be run in a lab's terminal. */
  exec: boolean;
}

/** Markdown rendered with its code blocks known (see `renderMarkdownWithCode`). */
export interface RenderedMarkdown {
  html: string;
  blocks: CodeBlock[];
  /** Names this render's code elements: `data-code-block="<marker>-<index>"`. */
  marker: string;
}

// The code blocks of the render in progress (marked parses synchronously), when asked for.
let collecting: { marker: string; blocks: CodeBlock[] } | null = null;

const marked = new Marked({
  gfm: true,
  renderer: {
    code({ text, lang }) {
      const info = (lang ?? "").trim().toLowerCase().split(/\s+/).filter((w) => w.length > 0);
      const language = info[0] === "exec" ? "" : (info[0] ?? "");
      const body = hljs.getLanguage(language)
        ? hljs.highlight(text, { language, ignoreIllegals: true }).value
        : escapeHtml(text);
      let marker = "";
      if (collecting) {
        const index = collecting.blocks.push({ text, language, exec: info.includes("exec") }) - 1;
        marker = ` data-code-block="${collecting.marker}-${index}"`;
      }
      return `<pre><code class="hljs language-${escapeHtml(language || "plain")}"${marker}>${body}</code></pre>`;
    },
  },
});

const XHTML = "http://www.w3.org/1999/xhtml";
const XLINK = "http://www.w3.org/1999/xlink";
/** Attributes through which an element can take the window, or a form, to an address. */
const NAVIGATING = ["href", "xlink:href", "action", "formaction"];

/** Strips every address but a followable one on a plain HTML link (see the top of this file). */
function stripLinks(node: Element) {
  const plainLink = node.namespaceURI === XHTML && node.localName === "a";
  const href = plainLink ? node.getAttribute("href") : null;
  for (const name of NAVIGATING) node.removeAttribute(name);
  node.removeAttributeNS(XLINK, "href");
  // Images load (from the app itself: the CSP's img-src); video and audio play only the
  // lesson's own downloaded media, never an address written in its text.
  if (!(node.namespaceURI === XHTML && node.localName === "img") || APP_SCHEME.test(node.getAttribute("src") ?? "")) {
    node.removeAttribute("src");
  }
  if (!plainLink) return;
  node.removeAttribute("target");
  const destination = linkDestination(href);
  if (destination) {
    const address =
      destination.kind === "external" || destination.kind === "attachment"
        ? destination.url
        : destination.kind === "package"
          ? destination.path + (destination.fragment ? `#${destination.fragment}` : "")
          : destination.kind === "app"
            ? `skilltrack://${destination.target}/${destination.id}`
            : `#${destination.fragment}`;
    node.setAttribute("href", address);
    node.setAttribute("title", address);
    node.setAttribute("rel", "noopener noreferrer");
  }
}

// DOMPurify's own list of safe address schemes, plus the app's (`skilltrack:`, for the app's
// links: lib/links.ts keeps exactly those links.rs reads, stripLinks everything else).
const ALLOWED_URI_REGEXP = /^(?:(?:(?:f|ht)tps?|mailto|tel|callto|sms|cid|xmpp|matrix|skilltrack):|[^a-z]|[a-z+.\-]+(?:[^a-z+.\-:]|$))/i;
const APP_SCHEME = /^\s*skilltrack:/i;

let hooked = false;

export function renderMarkdown(markdown: string): string {
  if (!hooked) {
    DOMPurify.addHook("afterSanitizeAttributes", stripLinks);
    hooked = true;
  }
  const html = marked.parse(markdown, { async: false });
  return DOMPurify.sanitize(html, { FORBID_TAGS: ["style", "form", "input", "iframe"], ALLOWED_URI_REGEXP });
}

function randomMarker(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Renders markdown as `renderMarkdown` does, and also returns its fenced code blocks as
 * written, for Copy and Run buttons added to the sanitized HTML afterwards
 * (lib/codeblocks.ts). Each block's `<code>` carries a marker made fresh for this render, so
 * raw HTML in the markdown cannot pass itself off as a block: it cannot guess the marker.
 */
export function renderMarkdownWithCode(markdown: string): RenderedMarkdown {
  const marker = randomMarker();
  collecting = { marker, blocks: [] };
  try {
    const html = renderMarkdown(markdown);
    return { html, blocks: collecting.blocks, marker };
  } finally {
    collecting = null;
  }
}
