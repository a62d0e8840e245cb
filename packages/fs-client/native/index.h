/* The image tree held in memory: built once from the index file, never changed afterwards,
 * so FUSE threads read it without locks. */
#ifndef CELLAR_INDEX_H
#define CELLAR_INDEX_H

#include <stdint.h>
#include <sys/types.h>

#define HASH_BYTES 32

struct node {
	char *path;     /* absolute, decoded; "/" for the root */
	const char *name; /* points into path */
	uint64_t parent;  /* inode of the parent; the root is its own parent */
	uint32_t mode, uid, gid, nlink;
	uint64_t size;
	int64_t mtime;
	char *target;   /* symlink target or NULL */
	uint32_t nchunks;
	uint8_t *chunks; /* nchunks * HASH_BYTES, binary sha256 */
	uint64_t *children; /* inodes, index order */
	uint32_t nchildren, cap_children;
};

struct image {
	uint64_t chunk_size;
	struct node *nodes; /* nodes[ino - 1]; the root is inode 1 */
	uint64_t nnodes;
	uint64_t *table;    /* open-addressed hash of path -> inode, 0 = empty */
	uint64_t table_mask;
	uint64_t total_bytes;
};

/* Loads FILE; on error returns -1 with a message in err. */
int image_load(struct image *img, const char *file, char *err, size_t errlen);
struct node *image_node(const struct image *img, uint64_t ino);
/* The child NAME of directory PARENT, or 0. */
uint64_t image_lookup(const struct image *img, uint64_t parent, const char *name);

#endif
