// Tells the app, once per launch, that the catalog is on screen and answering: the app logs
// how long the launch took (operators read it; the desktop benchmark measures with it).
import { commands } from "./commands";

let reported = false;

/** Call after the catalog rendered `cards` cards; reports the first time there are some. */
export function catalogShown(cards: number, report = commands.catalogInteractive): void {
  if (reported || cards === 0) return;
  reported = true;
  // Two frames: the first runs before the cards are painted, the second after.
  requestAnimationFrame(() => requestAnimationFrame(() => void report(cards).catch(() => {})));
}
