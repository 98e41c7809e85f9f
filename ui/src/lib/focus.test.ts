// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { focusHeadingWhenShown } from "./focus";

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("focus follows navigation", () => {
  it("lands on the new screen's heading once it shows", async () => {
    document.body.innerHTML = "<main></main>";
    const main = document.querySelector("main")!;
    focusHeadingWhenShown(main);
    main.innerHTML = "<section><h1>Settings</h1></section>";
    await tick();
    expect(document.activeElement?.textContent).toBe("Settings");
    expect(document.activeElement?.getAttribute("tabindex")).toBe("-1");
  });

  it("leaves focus alone when the learner moved it meanwhile", async () => {
    document.body.innerHTML = "<main><input id='search'></main>";
    const main = document.querySelector("main")!;
    focusHeadingWhenShown(main);
    (document.getElementById("search") as HTMLInputElement).focus();
    main.insertAdjacentHTML("beforeend", "<h1>Catalog</h1>");
    await tick();
    expect(document.activeElement?.id).toBe("search");
  });
});
