/* cellar-lazyfs: serves a read-only image from its index over FUSE (low-level API), reading
 * file contents from chunk files in a cache directory that TypeScript fills on request.
 *
 * The image never changes while mounted, so everything the kernel may cache it caches for an
 * hour: entries, attributes, negative lookups, directory listings, symlinks and page data.
 * That, readdirplus and skipping open/opendir are what made this daemon as fast as
 * a native filesystem once warm (README.md has the numbers). */
#define FUSE_USE_VERSION 312
#define _GNU_SOURCE
#include "chunks.h"
#include "index.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define CACHE_SECONDS 3600.0
#define MAX_IO (1 << 20)

static struct image img;

static void fill_stat(uint64_t ino, const struct node *nd, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = nd->mode;
	st->st_nlink = nd->nlink;
	st->st_uid = nd->uid;
	st->st_gid = nd->gid;
	st->st_size = (off_t)nd->size;
	st->st_blksize = 65536;
	st->st_blocks = (blkcnt_t)((nd->size + 511) / 512);
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = nd->mtime;
}

static void fill_entry(uint64_t ino, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->generation = 1;
	e->attr_timeout = CACHE_SECONDS;
	e->entry_timeout = CACHE_SECONDS;
	fill_stat(ino, image_node(&img, ino), &e->attr);
}

static void lfs_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	unsigned want = FUSE_CAP_READDIRPLUS | FUSE_CAP_CACHE_SYMLINKS | FUSE_CAP_NO_OPEN_SUPPORT |
			FUSE_CAP_NO_OPENDIR_SUPPORT | FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS |
			FUSE_CAP_SPLICE_WRITE;
	conn->want |= want & conn->capable;
	/* always readdirplus: every listing is followed by stats in the workloads that matter */
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	conn->max_readahead = MAX_IO;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
}

static void lfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	uint64_t ino = image_lookup(&img, parent, name);
	if (!ino) {
		/* ino 0 with a timeout is a cached negative entry */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = CACHE_SECONDS;
		fuse_reply_entry(req, &e);
		return;
	}
	fill_entry(ino, &e);
	fuse_reply_entry(req, &e);
}

static void lfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

static void lfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(req);
}

static void lfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct node *nd = image_node(&img, ino);
	if (!nd) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st;
	fill_stat(ino, nd, &st);
	fuse_reply_attr(req, &st, CACHE_SECONDS);
}

static void lfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct node *nd = image_node(&img, ino);
	if (!nd || !nd->target) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	fuse_reply_readlink(req, nd->target);
}

/* ENOSYS here, with the NO_OPEN(DIR) capabilities, tells the kernel to stop sending opens
 * and treat every file as keep_cache and every directory as cache_readdir. */
static void lfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

static void lfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void lfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	struct node *nd = image_node(&img, ino);
	if (!nd || !S_ISREG(nd->mode)) {
		fuse_reply_err(req, nd ? EISDIR : ENOENT);
		return;
	}
	if (off < 0 || (uint64_t)off >= nd->size || size == 0) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > MAX_IO)
		size = MAX_IO;
	uint64_t end = (uint64_t)off + size;
	if (end > nd->size)
		end = nd->size;
	uint64_t cs = img.chunk_size;
	uint64_t first = (uint64_t)off / cs, last = (end - 1) / cs;
	int n = (int)(last - first + 1);
	struct chunk_ref refs[n];
	if (chunks_acquire(nd->chunks + first * HASH_BYTES, n, refs) != 0) {
		fuse_reply_err(req, EIO);
		return;
	}
	/* splice straight from the chunk files: no copy through this process. A chunk file shorter
	 * than the index says would turn into a short read, which the kernel pads with zeros, so
	 * that is an I/O error instead. */
	struct fuse_bufvec *bv = calloc(1, sizeof(*bv) + (size_t)n * sizeof(struct fuse_buf));
	if (!bv) {
		chunks_release(refs, n);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	bv->count = (size_t)n;
	int err = 0;
	for (uint64_t c = first; c <= last; c++) {
		uint64_t cstart = c * cs;
		uint64_t from = (uint64_t)off > cstart ? (uint64_t)off - cstart : 0;
		uint64_t to = end < cstart + cs ? end - cstart : cs;
		uint64_t want_size = nd->size - cstart < cs ? nd->size - cstart : cs;
		if (refs[c - first].size != want_size)
			err = EIO;
		bv->buf[c - first] = (struct fuse_buf){
			.size = to - from,
			.flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK | FUSE_BUF_FD_RETRY,
			.fd = refs[c - first].fd,
			.pos = (off_t)(refs[c - first].base + from),
		};
	}
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_data(req, bv, 0);
	chunks_release(refs, n);
	free(bv);
}

static void lfs_readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus)
{
	struct node *nd = image_node(&img, ino);
	if (!nd || !S_ISDIR(nd->mode)) {
		fuse_reply_err(req, nd ? ENOTDIR : ENOENT);
		return;
	}
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	/* offsets: 0 = ".", 1 = "..", 2 + i = children[i] */
	for (off_t i = off; i < (off_t)nd->nchildren + 2; i++) {
		uint64_t child = i == 0 ? ino : i == 1 ? nd->parent : nd->children[i - 2];
		const char *name = i == 0 ? "." : i == 1 ? ".." : image_node(&img, child)->name;
		size_t len;
		if (plus) {
			struct fuse_entry_param e;
			fill_entry(child, &e);
			len = fuse_add_direntry_plus(req, buf + used, size - used, name, &e, i + 1);
		} else {
			struct stat st;
			fill_stat(child, image_node(&img, child), &st);
			len = fuse_add_direntry(req, buf + used, size - used, name, &st, i + 1);
		}
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void lfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	lfs_readdir_common(req, ino, size, off, 0);
}

static void lfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	lfs_readdir_common(req, ino, size, off, 1);
}

static void lfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct statvfs sv;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_blocks = (img.total_bytes + 4095) / 4096;
	sv.f_files = img.nnodes;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops ops = {
	.init = lfs_init,
	.lookup = lfs_lookup,
	.forget = lfs_forget,
	.forget_multi = lfs_forget_multi,
	.getattr = lfs_getattr,
	.readlink = lfs_readlink,
	.open = lfs_open,
	.opendir = lfs_open,
	.release = lfs_release,
	.releasedir = lfs_release,
	.read = lfs_read,
	.readdir = lfs_readdir,
	.readdirplus = lfs_readdirplus,
	.statfs = lfs_statfs,
};

static void usage(void)
{
	fprintf(stderr, "usage: cellar-lazyfs --index FILE --cache DIR --fetch-socket PATH "
			"[-o opt,...] [-d] MOUNTPOINT\n");
}

int main(int argc, char *argv[])
{
	const char *index_file = NULL, *cache = NULL, *socket_path = NULL;
	char **rest = calloc((size_t)argc + 4, sizeof(char *));
	int nrest = 0;
	rest[nrest++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char **dst = strcmp(argv[i], "--index") == 0 ? &index_file
				 : strcmp(argv[i], "--cache") == 0 ? &cache
				 : strcmp(argv[i], "--fetch-socket") == 0 ? &socket_path : NULL;
		if (dst && i + 1 < argc)
			*dst = argv[++i];
		else
			rest[nrest++] = argv[i];
	}
	if (!index_file || !cache || !socket_path) {
		usage();
		return 2;
	}
	rest[nrest++] = "-o";
	rest[nrest++] = "ro,default_permissions,fsname=cellar-lazyfs,subtype=cellar";
	struct fuse_args args = FUSE_ARGS_INIT(nrest, rest);
	struct fuse_cmdline_opts opts;
	if (fuse_parse_cmdline(&args, &opts) != 0 || !opts.mountpoint) {
		usage();
		return 2;
	}

	char err[512];
	if (image_load(&img, index_file, err, sizeof(err)) != 0) {
		fprintf(stderr, "cellar-lazyfs: %s\n", err);
		return 1;
	}
	if (chunks_init(cache, socket_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "cellar-lazyfs: %s\n", err);
		return 1;
	}

	struct fuse_session *se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se)
		return 1;
	if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, opts.mountpoint) != 0) {
		fuse_session_destroy(se);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	/* reads block their thread while a chunk is fetched, so allow many threads */
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_max_threads(cfg, 64);
	fuse_loop_cfg_set_idle_threads(cfg, 8);
	int rc = opts.singlethread ? fuse_session_loop(se) : fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);

	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return rc < 0 ? 1 : 0;
}
