/* The daemon's side of the fetch protocol: "FETCH <hash>\n" out; back, in any order, one of
 *   "OK <hash>\n"                          the chunk is the file <cache>/<hh>/<hash>
 *   "AT <hash> <offset> <size> packs/<h>\n" the chunk is SIZE bytes at OFFSET in <cache>/packs/<h>
 *   "ERR <hash> <reason>\n"
 * Several FUSE threads may wait on the same hash; only one FETCH line is sent for it while it is
 * outstanding. Packs exist because creating a file costs ~0.7 ms on these machines' ext4, so a
 * boot set of ~860 chunks is written as a few pack files instead of ~860 chunk files. */
#define _GNU_SOURCE
#include "chunks.h"
#include "index.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define FD_SLOTS 256

struct location {
	int in_pack;
	char path[80]; /* relative to the cache dir: "packs/<64 hex>" */
	uint64_t base, size;
};

struct pending {
	uint8_t hash[HASH_BYTES];
	int state; /* 0 waiting, 1 ok, 2 failed */
	struct location loc;
	int waiters;
	struct pending *next;
};

struct fd_slot {
	uint8_t hash[HASH_BYTES];
	int fd; /* -1 when empty */
	int refs;
	uint64_t used;
	uint64_t size;
	uint64_t base;
};

static const char *cache_dir;
static int sock = -1;
static int sock_dead;
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fetch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fetch_cv = PTHREAD_COND_INITIALIZER;
static struct pending *pending_list;

static pthread_mutex_t fd_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fd_slot slots[FD_SLOTS];
static uint64_t fd_clock;

static void to_hex(const uint8_t *h, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < HASH_BYTES; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[2 * HASH_BYTES] = '\0';
}

static int from_hex(const char *s, uint8_t *out)
{
	for (int i = 0; i < HASH_BYTES * 2; i++) {
		int c = s[i], v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return -1;
		if (i & 1)
			out[i / 2] |= (uint8_t)v;
		else
			out[i / 2] = (uint8_t)(v << 4);
	}
	return 0;
}

static void settle(const uint8_t *hash, int state, const struct location *loc)
{
	pthread_mutex_lock(&fetch_mu);
	for (struct pending *p = pending_list; p; p = p->next) {
		if (p->state == 0 && (!hash || memcmp(p->hash, hash, HASH_BYTES) == 0)) {
			p->state = state;
			if (loc)
				p->loc = *loc;
		}
	}
	pthread_cond_broadcast(&fetch_cv);
	pthread_mutex_unlock(&fetch_mu);
}

/* "<offset> <size> packs/<64 hex>": anything else is refused, so a reply cannot point outside
 * the cache dir. */
static int parse_location(const char *s, struct location *loc)
{
	unsigned long long base, size;
	int n = 0;
	if (sscanf(s, "%llu %llu %n", &base, &size, &n) != 2 || n == 0)
		return -1;
	const char *path = s + n;
	if (strlen(path) != 6 + HASH_BYTES * 2 || strncmp(path, "packs/", 6) != 0)
		return -1;
	uint8_t tmp[HASH_BYTES];
	if (from_hex(path + 6, tmp) != 0)
		return -1;
	loc->in_pack = 1;
	strcpy(loc->path, path);
	loc->base = base;
	loc->size = size;
	return 0;
}

static void handle_line(char *line)
{
	uint8_t hash[HASH_BYTES];
	int ok = strncmp(line, "OK ", 3) == 0;
	int at = strncmp(line, "AT ", 3) == 0;
	int bad = strncmp(line, "ERR ", 4) == 0;
	const char *h = line + (bad ? 4 : 3);
	if ((!ok && !at && !bad) || strlen(h) < HASH_BYTES * 2 || from_hex(h, hash) != 0) {
		fprintf(stderr, "cellar-lazyfs: ignoring reply: %s\n", line);
		return;
	}
	if (at) {
		struct location loc;
		if (h[HASH_BYTES * 2] != ' ' || parse_location(h + HASH_BYTES * 2 + 1, &loc) != 0) {
			fprintf(stderr, "cellar-lazyfs: bad location: %s\n", line);
			settle(hash, 2, NULL);
			return;
		}
		settle(hash, 1, &loc);
		return;
	}
	if (bad)
		fprintf(stderr, "cellar-lazyfs: fetch failed: %s\n", line + 4);
	settle(hash, ok ? 1 : 2, NULL);
}

static void *reader(void *arg)
{
	(void)arg;
	char buf[8192];
	size_t have = 0;
	for (;;) {
		ssize_t r = read(sock, buf + have, sizeof(buf) - 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		char *start = buf, *nl;
		while ((nl = memchr(start, '\n', have - (size_t)(start - buf)))) {
			*nl = '\0';
			handle_line(start);
			start = nl + 1;
		}
		have -= (size_t)(start - buf);
		memmove(buf, start, have);
		if (have == sizeof(buf) - 1)
			have = 0; /* a line this long is garbage; drop it */
	}
	/* TypeScript owns this mount: without it no chunk can arrive, so unmount rather than leave
	 * a mount behind that fails every cold read. SIGTERM takes libfuse's own exit path. */
	fprintf(stderr, "cellar-lazyfs: fetch socket closed; unmounting\n");
	pthread_mutex_lock(&fetch_mu);
	sock_dead = 1;
	pthread_mutex_unlock(&fetch_mu);
	settle(NULL, 2, NULL);
	kill(getpid(), SIGTERM);
	return NULL;
}

int chunks_init(const char *dir, const char *socket_path, char *err, size_t errlen)
{
	cache_dir = dir;
	for (int i = 0; i < FD_SLOTS; i++)
		slots[i].fd = -1;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "fetch socket path too long");
		return -1;
	}
	strcpy(addr.sun_path, socket_path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		snprintf(err, errlen, "connect %s: %s", socket_path, strerror(errno));
		return -1;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, reader, NULL) != 0) {
		snprintf(err, errlen, "cannot start reader thread");
		return -1;
	}
	pthread_detach(t);
	return 0;
}

static int send_line(const char *line)
{
	size_t len = strlen(line), off = 0;
	pthread_mutex_lock(&write_mu);
	while (off < len) {
		ssize_t w = send(sock, line + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	pthread_mutex_unlock(&write_mu);
	return off == len ? 0 : -1;
}

static struct pending *request_fetch(const uint8_t *hash)
{
	pthread_mutex_lock(&fetch_mu);
	for (struct pending *p = pending_list; p; p = p->next) {
		if (p->state == 0 && memcmp(p->hash, hash, HASH_BYTES) == 0) {
			p->waiters++;
			pthread_mutex_unlock(&fetch_mu);
			return p;
		}
	}
	struct pending *p = calloc(1, sizeof(*p));
	if (!p) {
		pthread_mutex_unlock(&fetch_mu);
		return NULL;
	}
	memcpy(p->hash, hash, HASH_BYTES);
	p->waiters = 1;
	p->state = sock_dead ? 2 : 0;
	p->next = pending_list;
	pending_list = p;
	pthread_mutex_unlock(&fetch_mu);
	if (p->state == 0) {
		char line[HASH_BYTES * 2 + 16];
		memcpy(line, "FETCH ", 6);
		to_hex(hash, line + 6);
		strcat(line, "\n");
		if (send_line(line) != 0)
			settle(hash, 2, NULL);
	}
	return p;
}

static void unlock_mutex(void *mu)
{
	pthread_mutex_unlock(mu);
}

/* Waits for P to settle and drops this thread's interest in it; returns its state and where
 * the chunk is. */
static int wait_fetch(struct pending *p, struct location *loc)
{
	pthread_mutex_lock(&fetch_mu);
	/* libfuse cancels worker threads at unmount; a thread cancelled here must drop the lock */
	pthread_cleanup_push(unlock_mutex, &fetch_mu);
	while (p->state == 0)
		pthread_cond_wait(&fetch_cv, &fetch_mu);
	pthread_cleanup_pop(0);
	int state = p->state;
	*loc = p->loc;
	if (--p->waiters == 0) {
		for (struct pending **pp = &pending_list; *pp; pp = &(*pp)->next) {
			if (*pp == p) {
				*pp = p->next;
				break;
			}
		}
		free(p);
	}
	pthread_mutex_unlock(&fetch_mu);
	return state;
}

/* Hands out a reference to cached slot i. Caller holds fd_mu. */
static void take_slot(int i, struct chunk_ref *ref)
{
	slots[i].refs++;
	slots[i].used = ++fd_clock;
	ref->fd = slots[i].fd;
	ref->slot = i;
	ref->size = slots[i].size;
	ref->base = slots[i].base;
}

/* Opens a chunk through the fd cache: at LOC when given (a reply said where it is), else its
 * chunk file. Returns 0, -ENOENT when it is not in the cache dir, or another -errno. */
static int open_chunk(const uint8_t *hash, const struct location *loc, struct chunk_ref *ref)
{
	pthread_mutex_lock(&fd_mu);
	for (int i = 0; i < FD_SLOTS; i++) {
		if (slots[i].fd >= 0 && memcmp(slots[i].hash, hash, HASH_BYTES) == 0) {
			take_slot(i, ref);
			pthread_mutex_unlock(&fd_mu);
			return 0;
		}
	}
	pthread_mutex_unlock(&fd_mu);

	char hex[HASH_BYTES * 2 + 1], path[4096];
	to_hex(hash, hex);
	if (loc && loc->in_pack)
		snprintf(path, sizeof(path), "%s/%s", cache_dir, loc->path);
	else
		snprintf(path, sizeof(path), "%s/%.2s/%s", cache_dir, hex, hex);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -EIO;
	}
	uint64_t base = 0, size = (uint64_t)st.st_size;
	if (loc && loc->in_pack) {
		base = loc->base;
		size = loc->size;
		if (base + size > (uint64_t)st.st_size) {
			close(fd);
			return -ENOENT; /* not the pack the reply meant: ask again */
		}
	}
	/* FUSE hands us 128 KiB reads; without this each one waits on the disk in turn */
	posix_fadvise(fd, (off_t)base, (off_t)size, POSIX_FADV_WILLNEED);

	pthread_mutex_lock(&fd_mu);
	int victim = -1;
	for (int i = 0; i < FD_SLOTS; i++) {
		if (slots[i].fd >= 0 && memcmp(slots[i].hash, hash, HASH_BYTES) == 0) {
			/* another thread opened it meanwhile */
			close(fd);
			take_slot(i, ref);
			pthread_mutex_unlock(&fd_mu);
			return 0;
		}
		if (slots[i].refs == 0 && (victim < 0 || slots[i].fd < 0 ||
					   (slots[victim].fd >= 0 && slots[i].used < slots[victim].used)))
			victim = i;
	}
	ref->fd = fd;
	ref->slot = victim;
	ref->size = size;
	ref->base = base;
	if (victim >= 0) {
		if (slots[victim].fd >= 0)
			close(slots[victim].fd);
		memcpy(slots[victim].hash, hash, HASH_BYTES);
		slots[victim].fd = fd;
		slots[victim].refs = 1;
		slots[victim].used = ++fd_clock;
		slots[victim].size = size;
		slots[victim].base = base;
	}
	pthread_mutex_unlock(&fd_mu);
	return 0;
}

void chunks_release(struct chunk_ref *refs, int n)
{
	pthread_mutex_lock(&fd_mu);
	for (int i = 0; i < n; i++) {
		if (refs[i].slot >= 0)
			slots[refs[i].slot].refs--;
		else if (refs[i].fd >= 0)
			close(refs[i].fd);
		refs[i].fd = -1;
	}
	pthread_mutex_unlock(&fd_mu);
}

int chunks_acquire(const uint8_t *hashes, int n, struct chunk_ref *refs)
{
	struct pending *waits[n];
	int failed = 0;
	for (int i = 0; i < n; i++) {
		waits[i] = NULL;
		refs[i].fd = -1;
		refs[i].slot = -1;
		int r = open_chunk(hashes + (size_t)i * HASH_BYTES, NULL, &refs[i]);
		if (r == -ENOENT) {
			waits[i] = request_fetch(hashes + (size_t)i * HASH_BYTES);
			if (!waits[i])
				failed = 1;
		} else if (r < 0) {
			failed = 1;
		}
	}
	for (int i = 0; i < n; i++) {
		const uint8_t *hash = hashes + (size_t)i * HASH_BYTES;
		/* the cache may evict a chunk between OK and our open (its LRU cannot see our reads):
		 * ask again a few times before calling it an I/O error */
		for (int attempt = 0; waits[i]; attempt++) {
			struct location loc;
			int ok = wait_fetch(waits[i], &loc) == 1;
			waits[i] = NULL;
			int r = ok ? open_chunk(hash, &loc, &refs[i]) : -EIO;
			if (r == -ENOENT && attempt < 3)
				waits[i] = request_fetch(hash);
			if (r != 0 && !waits[i])
				failed = 1;
		}
	}
	if (failed) {
		chunks_release(refs, n);
		return -EIO;
	}
	return 0;
}
