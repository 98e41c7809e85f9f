// The video player's pure parts: WebVTT cues for the transcript, which cue is playing, the
// keyboard shortcuts, and the speeds offered. The Player component wires them to <video>.

/** One caption cue as the transcript shows it. */
export type Cue = { start: number; end: number; text: string };

/** The speeds the player offers (the app refuses any other). */
export const PLAYBACK_RATES = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2] as const;

/** `hh:mm:ss.mmm` or `mm:ss.mmm` in seconds, or null. */
export function parseTimestamp(s: string): number | null {
  const m = /^(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})$/.exec(s.trim());
  if (!m) return null;
  const [, h, min, sec, ms] = m;
  return Number(h ?? 0) * 3600 + Number(min) * 60 + Number(sec) + Number(ms) / 1000;
}

/** The text of a cue without its markup (`<v Speaker>`, `<b>`, timestamps) and entities. */
function plainText(lines: string[]): string {
  return lines
    .join(" ")
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

/** The cues of a WebVTT file, in order; NOTE, STYLE and REGION blocks and broken cues skipped. */
export function parseWebVtt(webvtt: string): Cue[] {
  const blocks = webvtt.replace(/\r\n?/g, "\n").split(/\n{2,}/);
  const cues: Cue[] = [];
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l.length > 0);
    const at = lines.findIndex((l) => l.includes("-->"));
    if (at < 0 || at > 1) continue;
    const [from, rest] = lines[at].split("-->");
    const start = parseTimestamp(from);
    const end = parseTimestamp((rest ?? "").trim().split(/\s+/)[0] ?? "");
    const text = plainText(lines.slice(at + 1));
    if (start === null || end === null || end < start || !text) continue;
    cues.push({ start, end, text });
  }
  return cues;
}

/** The index of the cue playing at `time` (the last one started, while it lasts), or -1. */
export function activeCue(cues: Cue[], time: number): number {
  let found = -1;
  for (let i = 0; i < cues.length; i++) {
    if (cues[i].start > time) break;
    if (time < cues[i].end) found = i;
  }
  return found;
}

/** Lines whose text has every word of `query`, case- and accent-insensitive. */
export function searchCues(cues: Cue[], query: string): number[] {
  const fold = (s: string) => s.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
  const words = fold(query).split(/\s+/).filter(Boolean);
  return cues.flatMap((c, i) => (words.every((w) => fold(c.text).includes(w)) ? [i] : []));
}

/** `m:ss` (or `h:mm:ss`) for a transcript line. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** What a key does in the player. */
export type PlayerAction =
  | { kind: "toggle-play" }
  | { kind: "seek-by"; seconds: number }
  | { kind: "seek-to-share"; share: number }
  | { kind: "volume-by"; step: number }
  | { kind: "toggle-mute" }
  | { kind: "toggle-fullscreen" }
  | { kind: "toggle-captions" }
  | { kind: "speed-step"; step: 1 | -1 };

/** The usual shortcuts (as in YouTube's and Coursera's players), for a key event; none for
 *  keys with Ctrl/Alt/Meta, which belong to the app and the system. */
export function actionFor(e: { key: string; ctrlKey?: boolean; altKey?: boolean; metaKey?: boolean }): PlayerAction | null {
  if (e.ctrlKey || e.altKey || e.metaKey) return null;
  switch (e.key) {
    case " ":
    case "k":
    case "K":
      return { kind: "toggle-play" };
    case "ArrowLeft":
      return { kind: "seek-by", seconds: -5 };
    case "ArrowRight":
      return { kind: "seek-by", seconds: 5 };
    case "j":
    case "J":
      return { kind: "seek-by", seconds: -10 };
    case "l":
    case "L":
      return { kind: "seek-by", seconds: 10 };
    case "ArrowUp":
      return { kind: "volume-by", step: 0.1 };
    case "ArrowDown":
      return { kind: "volume-by", step: -0.1 };
    case "m":
    case "M":
      return { kind: "toggle-mute" };
    case "f":
    case "F":
      return { kind: "toggle-fullscreen" };
    case "c":
    case "C":
      return { kind: "toggle-captions" };
    case ">":
      return { kind: "speed-step", step: 1 };
    case "<":
      return { kind: "speed-step", step: -1 };
    case "Home":
      return { kind: "seek-to-share", share: 0 };
    default:
      return /^[0-9]$/.test(e.key) ? { kind: "seek-to-share", share: Number(e.key) / 10 } : null;
  }
}

/** The next speed up or down from `rate`, staying within the offered ones. */
export function stepRate(rate: number, step: 1 | -1): number {
  const i = PLAYBACK_RATES.findIndex((r) => r >= rate);
  const at = i < 0 ? PLAYBACK_RATES.length - 1 : i;
  return PLAYBACK_RATES[Math.min(PLAYBACK_RATES.length - 1, Math.max(0, at + step))];
}

/** Whether a key pressed on `target` is the page's to handle, not the player's (typing in a
 *  field; Space or Enter on a button or link, which activate it). */
export function keyBelongsToTarget(key: string, target: { tagName?: string; isContentEditable?: boolean } | null): boolean {
  const tag = target?.tagName?.toUpperCase() ?? "";
  if (target?.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(tag)) return true;
  return (key === " " || key === "Enter") && ["BUTTON", "A", "SUMMARY"].includes(tag);
}
