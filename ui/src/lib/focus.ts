// Focus follows navigation: when a new screen opens, keyboard and screen reader users land on
// its heading, as they would on a new page. Screens load their data after they mount, so this
// waits (briefly) for the heading to appear; if the learner has focused something else in the
// meantime (typing in a field, say), focus is theirs and stays where it is.

/** Moves focus to the first `h1` under `root` once it exists, unless focus moved meanwhile. */
export function focusHeadingWhenShown(root: HTMLElement, waitMs = 3000): () => void {
  const from = document.activeElement;
  const untouched = () => document.activeElement === from || document.activeElement === document.body;
  const tryFocus = (): boolean => {
    const heading = root.querySelector<HTMLElement>("h1");
    if (!heading) return false;
    if (untouched()) {
      if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
    return true;
  };
  if (tryFocus()) return () => {};
  const observer = new MutationObserver(() => {
    if (tryFocus()) stop();
  });
  const timer = setTimeout(() => stop(), waitMs);
  function stop() {
    observer.disconnect();
    clearTimeout(timer);
  }
  observer.observe(root, { childList: true, subtree: true });
  return stop;
}
