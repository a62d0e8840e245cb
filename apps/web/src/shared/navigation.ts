// Leaving the page for another of the app's pages with a full load (after signing in or out the
// cookie has changed, so nothing cached for the previous user may survive). One function, so
// tests can stand in for the browser's navigation, which jsdom does not do.

export function goTo(path: string, { replace = false }: { replace?: boolean } = {}): void {
  if (replace) window.location.replace(path);
  else window.location.assign(path);
}
