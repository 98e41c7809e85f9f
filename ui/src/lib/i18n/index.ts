// The app's words, in the learner's language. Every word a screen shows comes from a message
// catalog (`en/` is the reference, `fr/` must have every key: TypeScript refuses a missing
// one). Course content (titles, lessons, questions) is the instructor's, not ours, and is
// never translated here.
//
// The language is chosen once at launch (Settings' choice, else the operating system's) and
// when the learner changes it; the app then draws its screens again (App.svelte keys them on
// the language), so plain functions are enough and lib/ code can use them too.
import { en, type MessageKey } from "./en";
import { fr } from "./fr";

/** The languages the app speaks, each named in its own words. */
export const LANGUAGES = {
  en: { name: "English", messages: en as Record<MessageKey, string> },
  fr: { name: "Français", messages: fr as Record<MessageKey, string> },
} as const;

export type Language = keyof typeof LANGUAGES;
export type { MessageKey };

/** Keys with plural forms (`…_one`, `…_other`) without their suffix. */
export type PluralKey = MessageKey extends infer K ? (K extends `${infer Base}_other` ? Base : never) : never;

export type Params = Record<string, string | number>;

let current: Language = "en";

/** The language the app speaks now. */
export function language(): Language {
  return current;
}

const listeners = new Set<(next: Language) => void>();

/** Speaks `next` from now on, and tells the window to draw its screens again. */
export function setLanguage(next: Language): void {
  current = next;
  if (typeof document !== "undefined") document.documentElement.lang = next;
  for (const listener of listeners) listener(next);
}

/** Calls `listener` whenever the language changes; answers how to stop. */
export function onLanguageChange(listener: (next: Language) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

let systemTag: string | null = null;

/** The operating system's language, as the app was told at launch. */
export function systemLocale(): string | null {
  return systemTag;
}

/** Chooses the language at launch or from Settings: `chosen` (none: the system's). */
export function chooseLanguage(chosen: string | null | undefined, system: string | null | undefined = systemTag): Language {
  systemTag = system ?? null;
  const next = resolveLanguage(chosen, systemTag);
  setLanguage(next);
  return next;
}

export function isLanguage(tag: string): tag is Language {
  return Object.prototype.hasOwnProperty.call(LANGUAGES, tag);
}

/** The language to speak: the learner's choice if the app speaks it, else the operating
 *  system's (`fr-CA` → `fr`), else English. */
export function resolveLanguage(chosen: string | null | undefined, system: string | null | undefined): Language {
  for (const tag of [chosen, system]) {
    const primary = tag?.split(/[-_]/)[0]?.toLowerCase();
    if (primary && isLanguage(primary)) return primary;
  }
  return "en";
}

function fill(message: string, params: Params | undefined): string {
  if (!params) return message;
  return message.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === "number" ? formatNumber(value) : value;
  });
}

/** A message in the current language, its `{name}` placeholders filled from `params`. */
export function t(key: MessageKey, params?: Params): string {
  return fill(LANGUAGES[current].messages[key] ?? en[key], params);
}

/** A message that depends on a count (`{count}` is filled too): the plural form the current
 *  language uses for it (French says "1 leçon" and "0 leçon", English "0 lessons"). */
export function tn(key: PluralKey, count: number, params?: Params): string {
  const messages = LANGUAGES[current].messages as Record<string, string>;
  const form = new Intl.PluralRules(current).select(count);
  const message = messages[`${key}_${form}`] ?? messages[`${key}_other`] ?? (en as Record<string, string>)[`${key}_other`];
  return fill(message, { count, ...params });
}

/** The catalog's message `key` when it has one (a value the server names, such as a level or a
 *  role, looked up by key), else `fallback`. */
export function messageOr(key: string, fallback: string): string {
  return hasMessage(key) ? t(key) : fallback;
}

/** Whether the catalog has `key` (error codes are looked up this way). */
export function hasMessage(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}

export function formatNumber(value: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(current, options).format(value);
}

/** How long `seconds` is, in its largest whole unit ("3 minutes", "2 jours"). */
export function formatDuration(seconds: number): string {
  const units: [Intl.NumberFormatOptions["unit"], number][] = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  const [unit, size] = units.find(([, size]) => Math.abs(seconds) >= size) ?? units[units.length - 1];
  return new Intl.NumberFormat(current, { style: "unit", unit, unitDisplay: "long" }).format(Math.floor(Math.abs(seconds) / size));
}

/** How long ago `value` was, as a duration ("3 minutes"). */
export function formatAge(value: string | number | Date, now: number = Date.now()): string {
  const at = (value instanceof Date ? value : new Date(value)).getTime();
  return formatDuration(Math.max(0, (now - at) / 1000));
}

/** A date (and time, when asked) in the current language's way. */
export function formatDate(value: string | number | Date, withTime = false): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(current, withTime ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" });
}

/** A time of day in the current language's way. */
export function formatTime(value: string | number | Date): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleTimeString(current);
}
