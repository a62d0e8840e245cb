/* Parses the index file written by TypeScript (writeDaemonIndex) into an inode tree.
 * Format: "cellar-index 1 <chunkSize>\n" then one line per entry with TAB-separated fields
 * path mode(octal) uid gid size mtime target chunks; path and target are percent-encoded;
 * target and chunks are "-" when absent. Parents may come after their children or be
 * missing altogether: missing ones are made up as 40755 root-owned directories. */
#define _GNU_SOURCE
#include "index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIELDS 8

static void fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static uint64_t hash_path(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

struct node *image_node(const struct image *img, uint64_t ino)
{
	if (ino == 0 || ino > img->nnodes)
		return NULL;
	return &img->nodes[ino - 1];
}

static uint64_t find_path(const struct image *img, const char *path, size_t n)
{
	uint64_t i = hash_path(path, n) & img->table_mask;
	for (;;) {
		uint64_t ino = img->table[i];
		if (ino == 0)
			return 0;
		const char *p = img->nodes[ino - 1].path;
		if (strncmp(p, path, n) == 0 && p[n] == '\0')
			return ino;
		i = (i + 1) & img->table_mask;
	}
}

static void table_put(struct image *img, uint64_t ino)
{
	const char *p = img->nodes[ino - 1].path;
	uint64_t i = hash_path(p, strlen(p)) & img->table_mask;
	while (img->table[i] != 0)
		i = (i + 1) & img->table_mask;
	img->table[i] = ino;
}

static int table_grow(struct image *img)
{
	uint64_t size = (img->table_mask + 1) * 2;
	uint64_t *t = calloc(size, sizeof(*t));
	if (!t)
		return -1;
	free(img->table);
	img->table = t;
	img->table_mask = size - 1;
	for (uint64_t ino = 1; ino <= img->nnodes; ino++)
		table_put(img, ino);
	return 0;
}

uint64_t image_lookup(const struct image *img, uint64_t parent, const char *name)
{
	const struct node *p = image_node(img, parent);
	char buf[8192];
	if (!p)
		return 0;
	int n = snprintf(buf, sizeof(buf), "%s/%s", parent == 1 ? "" : p->path, name);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return 0;
	return find_path(img, buf, (size_t)n);
}

static int add_child(struct node *dir, uint64_t ino)
{
	if (dir->nchildren == dir->cap_children) {
		uint32_t cap = dir->cap_children ? dir->cap_children * 2 : 4;
		uint64_t *c = realloc(dir->children, cap * sizeof(*c));
		if (!c)
			return -1;
		dir->children = c;
		dir->cap_children = cap;
	}
	dir->children[dir->nchildren++] = ino;
	return 0;
}

/* Returns the inode of PATH (length n), creating it and its missing ancestors as plain
 * directories; *created says whether PATH itself was new. 0 on allocation failure. */
static uint64_t ensure_node(struct image *img, const char *path, size_t n, uint64_t *cap, int *created)
{
	*created = 0;
	if (n == 0)
		return 1;
	uint64_t ino = find_path(img, path, n);
	if (ino)
		return ino;
	size_t slash = n;
	while (slash > 0 && path[slash - 1] != '/')
		slash--;
	int parent_created;
	/* slash - 1 drops the separator; the root's children have parent path "" -> inode 1 */
	uint64_t parent = ensure_node(img, path, slash ? slash - 1 : 0, cap, &parent_created);
	if (!parent)
		return 0;
	if (img->nnodes == *cap) {
		*cap *= 2;
		struct node *nn = realloc(img->nodes, *cap * sizeof(*nn));
		if (!nn)
			return 0;
		img->nodes = nn;
	}
	if ((img->nnodes + 1) * 2 > img->table_mask + 1 && table_grow(img) != 0)
		return 0;
	ino = ++img->nnodes;
	struct node *nd = &img->nodes[ino - 1];
	memset(nd, 0, sizeof(*nd));
	nd->path = strndup(path, n);
	if (!nd->path)
		return 0;
	nd->name = nd->path + slash;
	nd->parent = parent;
	nd->mode = S_IFDIR | 0755;
	table_put(img, ino);
	if (add_child(&img->nodes[parent - 1], ino) != 0)
		return 0;
	*created = 1;
	return ino;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes %XX in place; returns the new length or -1 on a malformed escape. */
static ssize_t percent_decode(char *s)
{
	char *out = s;
	for (char *in = s; *in; in++) {
		if (*in == '%') {
			int hi = hexval(in[1]), lo = hi < 0 ? -1 : hexval(in[2]);
			if (lo < 0)
				return -1;
			*out++ = (char)(hi * 16 + lo);
			in += 2;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
	return out - s;
}

static int parse_chunks(struct node *nd, char *s)
{
	if (strcmp(s, "-") == 0 || *s == '\0')
		return 0;
	uint32_t count = 1;
	for (char *p = s; *p; p++)
		count += *p == ',';
	nd->chunks = malloc((size_t)count * HASH_BYTES);
	if (!nd->chunks)
		return -1;
	char *save = NULL;
	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strlen(tok) != HASH_BYTES * 2)
			return -1;
		uint8_t *dst = nd->chunks + (size_t)nd->nchunks * HASH_BYTES;
		for (int i = 0; i < HASH_BYTES; i++) {
			int hi = hexval(tok[2 * i]), lo = hexval(tok[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return -1;
			dst[i] = (uint8_t)(hi * 16 + lo);
		}
		nd->nchunks++;
	}
	return 0;
}

static int parse_entry(struct image *img, char *line, uint64_t *cap, char *err, size_t errlen, long lineno)
{
	char *f[FIELDS];
	int n = 0;
	for (char *p = line; n < FIELDS; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (!p) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n != FIELDS) {
		fail(err, errlen, "line %ld: expected %d fields, got %d", lineno, FIELDS, n);
		return -1;
	}
	ssize_t plen = percent_decode(f[0]);
	if (plen < 1 || f[0][0] != '/') {
		fail(err, errlen, "line %ld: bad path", lineno);
		return -1;
	}
	while (plen > 1 && f[0][plen - 1] == '/')
		f[0][--plen] = '\0';
	int created;
	uint64_t ino = plen == 1 ? 1 : ensure_node(img, f[0], (size_t)plen, cap, &created);
	if (!ino) {
		fail(err, errlen, "line %ld: out of memory", lineno);
		return -1;
	}
	struct node *nd = &img->nodes[ino - 1];
	char *end;
	nd->mode = (uint32_t)strtoul(f[1], &end, 8);
	nd->uid = (uint32_t)strtoul(f[2], NULL, 10);
	nd->gid = (uint32_t)strtoul(f[3], NULL, 10);
	nd->size = strtoull(f[4], NULL, 10);
	nd->mtime = strtoll(f[5], NULL, 10);
	if (*end != '\0' || (nd->mode & S_IFMT) == 0) {
		fail(err, errlen, "line %ld: bad mode %s", lineno, f[1]);
		return -1;
	}
	if (ino == 1 && !S_ISDIR(nd->mode)) {
		fail(err, errlen, "line %ld: root is not a directory", lineno);
		return -1;
	}
	free(nd->target);
	nd->target = NULL;
	if (strcmp(f[6], "-") != 0) {
		if (percent_decode(f[6]) < 0) {
			fail(err, errlen, "line %ld: bad target", lineno);
			return -1;
		}
		nd->target = strdup(f[6]);
	}
	if (S_ISLNK(nd->mode)) {
		if (!nd->target) {
			fail(err, errlen, "line %ld: symlink without target", lineno);
			return -1;
		}
		nd->size = strlen(nd->target);
	}
	free(nd->chunks);
	nd->chunks = NULL;
	nd->nchunks = 0;
	if (parse_chunks(nd, f[7]) != 0) {
		fail(err, errlen, "line %ld: bad chunk list", lineno);
		return -1;
	}
	if (S_ISREG(nd->mode)) {
		uint64_t want = img->chunk_size ? (nd->size + img->chunk_size - 1) / img->chunk_size : 0;
		if (nd->nchunks != want) {
			fail(err, errlen, "line %ld: %u chunks for %llu bytes", lineno, nd->nchunks,
			     (unsigned long long)nd->size);
			return -1;
		}
		img->total_bytes += nd->size;
	}
	return 0;
}

static char *read_all(const char *file, size_t *len)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) == 0 && (buf = malloc((size_t)st.st_size + 1))) {
		size_t got = 0;
		while (got < (size_t)st.st_size) {
			ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		buf[got] = '\0';
		*len = got;
	}
	close(fd);
	return buf;
}

int image_load(struct image *img, const char *file, char *err, size_t errlen)
{
	size_t len;
	char *buf = read_all(file, &len);
	if (!buf) {
		fail(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	memset(img, 0, sizeof(*img));
	uint64_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	uint64_t cap = lines + 16, tsize = 64;
	while (tsize < cap * 2)
		tsize *= 2;
	img->nodes = calloc(cap, sizeof(*img->nodes));
	img->table = calloc(tsize, sizeof(*img->table));
	if (!img->nodes || !img->table) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	img->table_mask = tsize - 1;
	img->nnodes = 1;
	img->nodes[0].path = strdup("/");
	img->nodes[0].name = img->nodes[0].path;
	img->nodes[0].parent = 1;
	img->nodes[0].mode = S_IFDIR | 0755;
	table_put(img, 1);

	char *save = NULL;
	char *line = strtok_r(buf, "\n", &save);
	unsigned long long chunk_size = 0;
	if (!line || sscanf(line, "cellar-index 1 %llu", &chunk_size) != 1 || chunk_size == 0) {
		fail(err, errlen, "%s: not a cellar-index 1 file", file);
		free(buf);
		return -1;
	}
	img->chunk_size = chunk_size;
	long lineno = 1;
	while ((line = strtok_r(NULL, "\n", &save))) {
		lineno++;
		size_t l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[l - 1] = '\0';
		if (*line == '\0')
			continue;
		if (parse_entry(img, line, &cap, err, errlen, lineno) != 0) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	for (uint64_t ino = 1; ino <= img->nnodes; ino++) {
		struct node *nd = &img->nodes[ino - 1];
		if (!S_ISDIR(nd->mode)) {
			nd->nlink = 1;
			continue;
		}
		nd->nlink = 2;
		for (uint32_t i = 0; i < nd->nchildren; i++)
			nd->nlink += S_ISDIR(img->nodes[nd->children[i] - 1].mode) ? 1 : 0;
	}
	return 0;
}
