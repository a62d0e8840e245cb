// Public surface of the lazy image filesystem. Parts are added as they land.
export {};
