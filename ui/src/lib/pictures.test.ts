import { describe, expect, it } from "vitest";
import { hasRemotePictures, withPictures } from "./pictures";

describe("pictures in lesson text", () => {
  it("knows which pictures the window cannot load itself", () => {
    expect(hasRemotePictures("![prompt](/media/demo/a.png)")).toBe(true);
    expect(hasRemotePictures('<img alt="x" src="https://cdn.example.com/b.webp">')).toBe(true);
    expect(hasRemotePictures("![inline](data:image/png;base64,AAAA)")).toBe(false);
    expect(hasRemotePictures("[a link](/media/demo/a.png) and text")).toBe(false);
  });

  it("writes fetched pictures in as data: URLs", () => {
    const md = "![a](/media/a.png) then ![a again](/media/a.png)";
    expect(withPictures(md, [{ url: "/media/a.png", data_url: "data:image/png;base64,QQ==" }])).toBe(
      "![a](data:image/png;base64,QQ==) then ![a again](data:image/png;base64,QQ==)",
    );
  });
});
