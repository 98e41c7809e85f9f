// Pictures in lesson text: the window loads pictures from the app and `data:` URLs only (its
// CSP), so a picture the lesson names by URL is shown from a copy the app fetched (downloaded
// with the course, or fetched for this view) written into the markdown as a `data:` URL.
import type { StreamedPicture } from "../bindings/StreamedPicture";

/** Whether the markdown names a picture by a URL the window cannot load itself. */
export function hasRemotePictures(markdown: string): boolean {
  return /!\[[^\]]*\]\(\s*<?(?!data:)[^)\s]+/.test(markdown) || /<img\b[^>]*\bsrc\s*=\s*["']?(?!data:)/i.test(markdown);
}

/** The markdown with each fetched picture's URL replaced by its `data:` URL. */
export function withPictures(markdown: string, pictures: StreamedPicture[]): string {
  let out = markdown;
  for (const p of pictures) out = out.split(p.url).join(p.data_url);
  return out;
}
