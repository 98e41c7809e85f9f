// Where a video lesson resumes, and when the player records its position. The position is kept
// as the lesson's progress percentage (it only goes up and syncs to every device of the learner),
// so the resume point is that share of the video's length.

/** How often the player records the position while playing (and once more on pause). */
export const RECORD_EVERY_MS = 10_000;

/** Where to start playing: the recorded share of the video, or the start once it was finished. */
export function resumeSeconds(percentage: number, duration: number, completed: boolean): number {
  if (completed || !(duration > 0) || !(percentage > 0) || percentage >= 100) return 0;
  return (Math.min(percentage, 99) / 100) * duration;
}

/** The share of the video a position stands for, as the app records it (0–99). */
export function shareOf(position: number, duration: number): number {
  if (!(duration > 0) || !(position >= 0)) return 0;
  return Math.min(99, Math.floor((position / duration) * 100));
}

/** Whether the player should record now: on pause always, while playing every RECORD_EVERY_MS,
 *  and only when the share grew past what was recorded. */
export function dueForRecord(
  last: { at: number; share: number },
  now: number,
  share: number,
  paused: boolean,
): boolean {
  if (share <= last.share) return false;
  return paused || now - last.at >= RECORD_EVERY_MS;
}
