/* Chunk files in the shared cache directory, fetched through TypeScript when missing. */
#ifndef CELLAR_CHUNKS_H
#define CELLAR_CHUNKS_H

#include <stddef.h>
#include <stdint.h>

struct chunk_ref {
	int fd;
	int slot; /* fd cache slot, or -1 when the fd is private to this ref */
	uint64_t size; /* of the chunk */
	uint64_t base; /* where the chunk starts in fd: 0 for a chunk file, its offset in a pack file */
};

/* Connects to the fetch socket and starts the thread that reads its replies. */
int chunks_init(const char *cache_dir, const char *socket_path, char *err, size_t errlen);

/* Opens the N chunks named by HASHES (N * 32 bytes), asking TypeScript for all missing ones at
 * once and waiting for every reply. Returns 0, or -EIO when any chunk could not be had; on
 * failure no refs are held. */
int chunks_acquire(const uint8_t *hashes, int n, struct chunk_ref *refs);
void chunks_release(struct chunk_ref *refs, int n);

#endif
