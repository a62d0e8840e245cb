// Where the sign-in page sends people, and where it comes back to. `next` arrives in the URL, so
// anyone can craft it: only a path on this origin is followed (an absolute URL, `//host`, or
// `/\host`, which browsers read as `//host`, would make the login page an open redirect).

/** Pages that work without a session: a 401 there is an answer to show, not a reason to leave. */
const PUBLIC_PAGES = ["/login", "/signup"];

export const isPublicPage = (pathname: string) => PUBLIC_PAGES.some((p) => pathname === p || pathname.startsWith(`${p}/`));

/** The sign-in page, set to come back to `here` (a path with its query) afterwards. */
export function loginPath(here: string): string {
  return here === "/" || here === "" ? "/login/" : `/login/?next=${encodeURIComponent(here)}`;
}

/** `next` if it is a path on `origin` (and not an account page), else "/". */
export function safeNextPath(next: string | null | undefined, origin: string = window.location.origin): string {
  if (!next?.startsWith("/")) return "/";
  let url: URL;
  try {
    // Parsed as the browser would (tabs and newlines dropped, backslashes as slashes), so what is
    // checked is what would be followed.
    url = new URL(next, origin);
  } catch {
    return "/";
  }
  // "/.//host" normalises to the path "//host", which the browser would then take as a host.
  if (url.origin !== origin || url.pathname.startsWith("//") || isPublicPage(url.pathname)) return "/";
  return url.pathname + url.search + url.hash;
}
