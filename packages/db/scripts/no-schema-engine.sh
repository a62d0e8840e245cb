#!/bin/sh
# Stand-in for Prisma's native schema-engine, which cannot be downloaded on Cellar's machines.
# `prisma generate` only checks that the file exists; anything that really needs the engine
# (migrate dev/deploy, db push, db pull) ends here with a pointer to what Cellar does instead.
echo "cellar: the native Prisma schema-engine is not available here." >&2
echo "cellar: migrations are committed SQL applied by @cellar/db (see prisma/README.md)." >&2
exit 1
