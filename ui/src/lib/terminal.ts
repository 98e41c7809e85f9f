// The lab terminal in the window: xterm.js fitted to its box, fed by the Rust engine through a
// Tauri channel (output as raw bytes, state as small JSON messages, in order), with keystrokes
// and resizes sent back as commands. The window never sees a token or a socket.
import { Channel } from "@tauri-apps/api/core";
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import type { TerminalMessage } from "../bindings/TerminalMessage";
import type { TerminalState } from "../bindings/TerminalState";
import { writeClipboard } from "./clipboard";
import { commands } from "./commands";
import { InputQueue } from "./labs";

export interface LabTerminal {
  /** Copies the selection to the clipboard; `false` when nothing is selected. */
  copy(): Promise<boolean>;
  /** Pastes text into the shell (as a paste, so bracketed-paste mode applies). */
  paste(text: string): void;
  /** Types text into the shell as keystrokes, in order with what the learner types. */
  type(text: string): void;
  focus(): void;
  dispose(): Promise<void>;
}

/**
 * Opens the terminal of `sessionId` inside `element`. `onState` hears the connection's state
 * (for the reconnect indicator).
 */
export async function openLabTerminal(
  element: HTMLElement,
  sessionId: string,
  onState: (state: TerminalState) => void,
): Promise<LabTerminal> {
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono", monospace',
    fontSize: 14,
    scrollback: 5000,
    theme: { background: "#10161d", foreground: "#e6edf3" },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(element);
  fit.fit();

  const channel = new Channel<TerminalMessage | ArrayBuffer>();
  channel.onmessage = (message) => {
    if (message instanceof ArrayBuffer) {
      term.write(new Uint8Array(message));
    } else if (message.kind === "ready") {
      // The replay that follows repaints what the screen may already show.
      term.reset();
    } else if (message.kind === "state") {
      onState(message);
    }
  };
  const id = await commands.openTerminal(sessionId, channel);
  const keys = new InputQueue((data) => commands.terminalInput(id, data));
  term.onData((data) => keys.push(data));
  term.onResize(({ cols, rows }) => void commands.terminalResize(id, cols, rows).catch(() => {}));
  void commands.terminalResize(id, term.cols, term.rows).catch(() => {});

  // Ctrl+Shift+C / Ctrl+Shift+V copy and paste, as in desktop terminals (Ctrl+C stays the
  // shell's interrupt).
  term.attachCustomKeyEventHandler((e) => {
    if (e.type !== "keydown" || !e.ctrlKey || !e.shiftKey) return true;
    if (e.code === "KeyC") {
      if (term.hasSelection()) void writeClipboard(term.getSelection());
      return false;
    }
    if (e.code === "KeyV") {
      navigator.clipboard.readText().then((t) => term.paste(t)).catch(() => {});
      return false;
    }
    return true;
  });

  const observer = new ResizeObserver(() => {
    // Hidden (the files tab): keep the shell's size rather than shrink it to nothing.
    if (element.offsetWidth === 0 || element.offsetHeight === 0) return;
    try {
      fit.fit();
    } catch {
      // Hidden (zero-sized) for a moment: fit on the next change.
    }
  });
  observer.observe(element);

  return {
    async copy() {
      if (!term.hasSelection()) return false;
      await writeClipboard(term.getSelection());
      return true;
    },
    paste(text: string) {
      term.paste(text);
    },
    type(text: string) {
      keys.push(text);
    },
    focus() {
      term.focus();
    },
    async dispose() {
      observer.disconnect();
      await commands.closeTerminal(id).catch(() => {});
      term.dispose();
    },
  };
}
