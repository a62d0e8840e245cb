"use client";
import { useEffect, useRef, useState } from "react";

/** `value`, but changing at most once per `ms`: the first change after a quiet spell shows at
 * once, a burst of changes shows its latest value at the end of each interval. A cell printing
 * thousands of lines a second then costs a few renders a second instead of one per frame.
 * `showAtOnce(shown)` lets a change through at once whatever the interval (from nothing shown, say). */
export function useThrottledValue<T>(value: T, ms: number, showAtOnce?: (shown: T) => boolean): T {
  const [shown, setShown] = useState(value);
  const lastShownAt = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    if (Object.is(value, shown)) return;
    const wait = lastShownAt.current + ms - Date.now();
    const show = () => {
      timer.current = null;
      lastShownAt.current = Date.now();
      setShown(value);
    };
    if (timer.current) clearTimeout(timer.current);
    if (wait <= 0 || showAtOnce?.(shown)) show();
    else timer.current = setTimeout(show, wait);
  }, [value, shown, ms, showAtOnce]);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  return Object.is(value, shown) ? value : shown;
}
