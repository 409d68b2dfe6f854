// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Debug info finding: libdwfl does the opening (compressed sections, dwz alternate
 * files, bias), our find_debuginfo callback walks the search order itself so that we
 * know which source answered.
 *
 * Why our own callback: dwfl_standard_find_debuginfo tries the build-id tree before
 * the debuglink and reports only a file name. Walking debuglink, then build-id, then
 * handing over to the standard callback (which ends in debuginfod) gives the
 * documented order and a source we can name without guessing from the path. Only the
 * last step is classified by path, because libdwfl does not say which of its own
 * steps answered.
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "indexer/debuginfo.h"
#include "shared/elf.h"
#include "shared/errors.h"

#define DEFAULT_DEBUG_ROOT "/usr/lib/debug"

/* The public struct plus what owns the handles behind it. */
struct debuginfo {
	struct gs_debuginfo pub;
	Dwfl *dwfl;			/* search path */
	Dwfl_Callbacks callbacks;	/* read by dwfl at every lookup: lives as long */
	char *dwfl_path;		/* the debuginfo_path callbacks point at */
	struct gs_elf *debug_file;	/* --debug-file path */
};

/* State for the find_debuginfo callback of one module. */
struct find_ctx {
	char dir[PATH_MAX];		/* directory of the binary's real path */
	char build_id[41];		/* "" when the binary has none */
	char *roots;			/* colon-separated, owned */
	char *source;			/* set when the callback found a file */
};

/* ---- CRC-32 for .gnu_debuglink ------------------------------------------------------ */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t gs_debuglink_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&crc_once, crc_table_init);
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static int fd_crc32(int fd, uint32_t *crc_ret)
{
	static const size_t bufsz = 1 << 16;
	uint32_t crc = 0;
	uint8_t *buf = malloc(bufsz);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	while ((n = read(fd, buf, bufsz)) > 0)
		crc = gs_debuglink_crc32(crc, buf, (size_t)n);
	free(buf);
	if (n < 0)
		return -errno;
	*crc_ret = crc;
	return 0;
}

/* ---- the search --------------------------------------------------------------------- */

static char *source_new(const char *kind, const char *path)
{
	char *s;

	if (asprintf(&s, "%s:%s", kind, path) < 0)
		return NULL;
	return s;
}

/* Opens @path if its CRC is @crc; the fd, or -1. */
static int try_debuglink(const char *path, uint32_t crc)
{
	uint32_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fd_crc32(fd, &got) || got != crc || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Opens @path if it is an ELF file with build-id @want; the fd, or -1. */
static int try_build_id(const char *path, const char *want)
{
	char got[41];
	int fd;

	if (gs_build_id_of_path(path, got) || strcmp(got, want))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

/*
 * Tries dir/name, dir/.debug/name and root/dir/name for each root. On success returns
 * the fd and a malloc'd path in *path_ret.
 */
static int find_by_debuglink(struct find_ctx *ctx, const char *name, uint32_t crc,
			     char **path_ret)
{
	char path[PATH_MAX * 2 + 16];
	char *roots, *root, *save = NULL;
	int fd = -1;

	if (!name || !name[0] || strchr(name, '/'))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", ctx->dir, name);
	fd = try_debuglink(path, crc);
	if (fd < 0) {
		snprintf(path, sizeof(path), "%s/.debug/%s", ctx->dir, name);
		fd = try_debuglink(path, crc);
	}
	roots = strdup(ctx->roots);
	if (!roots)
		return -1;
	for (root = strtok_r(roots, ":", &save); fd < 0 && root;
	     root = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s%s/%s", root, ctx->dir, name);
		fd = try_debuglink(path, crc);
	}
	free(roots);
	if (fd >= 0) {
		*path_ret = strdup(path);
		if (!*path_ret) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* Tries root/.build-id/xx/rest.debug for each root. */
static int find_by_build_id(struct find_ctx *ctx, char **path_ret)
{
	char path[PATH_MAX + 128];
	char *roots, *root, *save = NULL;
	int fd = -1;

	if (strlen(ctx->build_id) < 4)
		return -1;
	roots = strdup(ctx->roots);
	if (!roots)
		return -1;
	for (root = strtok_r(roots, ":", &save); fd < 0 && root;
	     root = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", root, ctx->build_id,
			 ctx->build_id + 2);
		fd = try_build_id(path, ctx->build_id);
	}
	free(roots);
	if (fd >= 0) {
		*path_ret = strdup(path);
		if (!*path_ret) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* The path an open fd refers to, malloc'd, or NULL. */
static char *fd_path(int fd)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static bool path_under(const char *path, const char *dir, const char *sub)
{
	char prefix[PATH_MAX];

	if (!dir || !dir[0])
		return false;
	snprintf(prefix, sizeof(prefix), "%s%s/", dir, sub);
	return !strncmp(path, prefix, strlen(prefix));
}

/*
 * Names what libdwfl's standard callback found, which it does not tell: a file in
 * libdebuginfod's cache ($DEBUGINFOD_CACHE_PATH, $XDG_CACHE_HOME/debuginfod_client,
 * ~/.cache/debuginfod_client, the legacy ~/.debuginfod_client_cache) came from
 * debuginfod; otherwise libdwfl found it on disk.
 */
static const char *classify_standard(const char *path)
{
	const char *home = getenv("HOME");

	if (path_under(path, getenv("DEBUGINFOD_CACHE_PATH"), "") ||
	    path_under(path, getenv("XDG_CACHE_HOME"), "/debuginfod_client") ||
	    path_under(path, home, "/.cache/debuginfod_client") ||
	    path_under(path, home, "/.debuginfod_client_cache"))
		return "debuginfod";
	if (strstr(path, "/.build-id/"))
		return "build-id";
	return "debuglink";
}

static int find_debuginfo_cb(Dwfl_Module *mod, void **userdata, const char *modname,
			     Dwarf_Addr base, const char *file_name,
			     const char *debuglink_file, GElf_Word debuglink_crc,
			     char **debuginfo_file_name)
{
	struct find_ctx *ctx = *userdata;
	const char *urls = getenv("DEBUGINFOD_URLS");
	char *path = NULL;
	int fd;

	fd = find_by_debuglink(ctx, debuglink_file, debuglink_crc, &path);
	if (fd >= 0) {
		ctx->source = source_new("debuglink", path);
		goto found;
	}
	fd = find_by_build_id(ctx, &path);
	if (fd >= 0) {
		ctx->source = source_new("build-id", path);
		goto found;
	}
	if (!urls || !urls[0])
		return -1;
	fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
					  debuglink_file, debuglink_crc, &path);
	if (fd < 0) {
		free(path);
		return -1;
	}
	if (!path)	/* the debuginfod step returns only an fd into its cache */
		path = fd_path(fd);
	if (!path) {
		close(fd);
		return -1;
	}
	ctx->source = source_new(classify_standard(path), path);
found:
	*debuginfo_file_name = path;
	return fd;
}

/* ---- opening ------------------------------------------------------------------------ */

void gs_debuginfo_close(struct gs_debuginfo *pub)
{
	struct debuginfo *di = (struct debuginfo *)pub;

	if (!di)
		return;
	if (di->debug_file && di->pub.dwarf)
		dwarf_end(di->pub.dwarf);
	gs_elf_close(di->debug_file);
	if (di->dwfl)
		dwfl_end(di->dwfl);
	free(di->dwfl_path);
	free(di->pub.source);
	free(di);
}

/* Sum of the .debug_* (and .zdebug_*) section sizes, uncompressed when known. */
static uint64_t dwarf_section_bytes(Elf *elf)
{
	size_t shstrndx;
	uint64_t total = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	GElf_Chdr chdr;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (!name || (strncmp(name, ".debug_", 7) && strncmp(name, ".zdebug_", 8)))
			continue;
		if ((shdr.sh_flags & SHF_COMPRESSED) && gelf_getchdr(scn, &chdr))
			total += chdr.ch_size;
		else
			total += shdr.sh_size;
	}
	return total;
}

/* True when @elf has a section libdw would take as DWARF. */
static bool elf_has_dwarf_sections(Elf *elf)
{
	static const char *const names[] = {
		".debug_info", ".debug_line", ".debug_frame",
		".zdebug_info", ".zdebug_line", ".zdebug_frame",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		Elf_Scn *scn = gs_elf_section_by_name(elf, names[i]);
		GElf_Shdr shdr;

		if (scn && gelf_getshdr(scn, &shdr) && shdr.sh_type != SHT_NOBITS)
			return true;
	}
	return false;
}

static int debuginfo_set_none(struct debuginfo *di)
{
	di->pub.source = strdup("none");
	return di->pub.source ? 0 : -ENOMEM;
}

/* Binary and debug file must agree on the build-id (or both have none). */
static int check_build_ids(const char *elf_path, const char *bin_id, const char *debug_path,
			   Elf *debug_elf)
{
	char dbg_id[41];
	int err = gs_elf_build_id_raw(debug_elf, dbg_id);

	if (err && err != -GS_ERR_NO_BUILD_ID)
		dbg_id[0] = '\0';
	if (!strcmp(bin_id, dbg_id))
		return 0;
	fprintf(stderr, "debuginfo: build-id mismatch: debug file '%s' has %s, binary '%s' has %s\n",
		debug_path, dbg_id[0] ? dbg_id : "none", elf_path, bin_id[0] ? bin_id : "none");
	return -GS_ERR_BUILD_ID_MISMATCH;
}

/* First PT_LOAD vaddr, to line up a debug file whose layout differs (prelink). */
static int first_load_vaddr(Elf *elf, uint64_t *vaddr_ret)
{
	size_t phnum;
	GElf_Phdr phdr;

	if (elf_getphdrnum(elf, &phnum))
		return -1;
	for (size_t i = 0; i < phnum; i++) {
		if (gelf_getphdr(elf, (int)i, &phdr) && phdr.p_type == PT_LOAD) {
			*vaddr_ret = phdr.p_vaddr;
			return 0;
		}
	}
	return -1;
}

static int open_debug_file(struct debuginfo *di, struct gs_elf *main_elf, const char *bin_id,
			   const char *debug_file)
{
	uint64_t main_va, dbg_va;
	Elf *delf;
	int err;

	err = gs_elf_open(debug_file, &di->debug_file);
	if (err) {
		if (err != -GS_ERR_BAD_ELF)
			fprintf(stderr, "debuginfo: cannot open debug file '%s': %s\n", debug_file,
				gs_strerror(err));
		return err;
	}
	delf = gs_elf_handle(di->debug_file);
	err = check_build_ids(gs_elf_path(main_elf), bin_id, debug_file, delf);
	if (err)
		return err;
	{
		char real[PATH_MAX];

		di->pub.source = source_new("debug-file", realpath(debug_file, real) ? real
								       : debug_file);
	}
	if (!di->pub.source)
		return -ENOMEM;
	if (!elf_has_dwarf_sections(delf)) {
		fprintf(stderr, "debuginfo: debug file '%s' has no DWARF\n", debug_file);
		return -GS_ERR_NO_DWARF;
	}
	di->pub.dwarf = dwarf_begin_elf(delf, DWARF_C_READ, NULL);
	if (!di->pub.dwarf) {
		fprintf(stderr, "debuginfo: cannot read DWARF of '%s': %s\n", debug_file,
			dwarf_errmsg(-1));
		return -GS_ERR_BAD_DWARF;
	}
	di->pub.debug_elf = delf;
	if (!first_load_vaddr(gs_elf_handle(main_elf), &main_va) &&
	    !first_load_vaddr(delf, &dbg_va))
		di->pub.bias = main_va - dbg_va;
	return 0;
}

/* Reads $GHOSTSCOPE_DEBUG_ROOT (or the default) into a malloc'd string. */
static char *debug_roots(void)
{
	const char *env = getenv("GHOSTSCOPE_DEBUG_ROOT");

	return strdup(env ? env : DEFAULT_DEBUG_ROOT);
}

/* Fills ctx->dir with the directory of @elf_path's real path. */
static void ctx_set_dir(struct find_ctx *ctx, const char *elf_path)
{
	char real[PATH_MAX], *slash;

	if (!realpath(elf_path, real))
		snprintf(real, sizeof(real), "%s", elf_path);
	slash = strrchr(real, '/');
	if (!slash)
		snprintf(real, sizeof(real), ".");
	else if (slash == real)
		real[1] = '\0';
	else
		*slash = '\0';
	snprintf(ctx->dir, sizeof(ctx->dir), "%s", real);
}

/* libdwfl's search, our callback first; ctx lives only for the call. */
static int open_by_search(struct debuginfo *di, struct gs_elf *main_elf, const char *bin_id,
			  struct find_ctx *ctx)
{
	const char *elf_path = gs_elf_path(main_elf);
	Dwarf_Addr dw_bias = 0, main_bias = 0;
	Dwfl_Module *mod;
	void **userdata;

	ctx_set_dir(ctx, elf_path);
	snprintf(ctx->build_id, sizeof(ctx->build_id), "%s", bin_id);
	ctx->roots = debug_roots();
	if (!ctx->roots || asprintf(&di->dwfl_path, ":.debug:%s", ctx->roots) < 0) {
		di->dwfl_path = NULL;
		return -ENOMEM;
	}
	di->callbacks = (Dwfl_Callbacks){
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = find_debuginfo_cb,
		.section_address = dwfl_offline_section_address,
		.debuginfo_path = &di->dwfl_path,
	};
	di->dwfl = dwfl_begin(&di->callbacks);
	if (!di->dwfl)
		return -ENOMEM;
	/* Base 0, no p_vaddr added: the module sits at its own link-time addresses. */
	mod = dwfl_report_elf(di->dwfl, elf_path, elf_path, -1, 0, false);
	dwfl_report_end(di->dwfl, NULL, NULL);
	if (!mod) {
		fprintf(stderr, "debuginfo: cannot report '%s': %s\n", elf_path, dwfl_errmsg(-1));
		return -GS_ERR_BAD_ELF;
	}
	dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	*userdata = ctx;
	di->pub.dwarf = dwfl_module_getdwarf(mod, &dw_bias);
	*userdata = NULL;
	if (!di->pub.dwarf) {
		if (!ctx->source && !elf_has_dwarf_sections(gs_elf_handle(main_elf)))
			return debuginfo_set_none(di);
		fprintf(stderr, "debuginfo: cannot read DWARF of '%s'%s%s: %s\n", elf_path,
			ctx->source ? " from " : "", ctx->source ? ctx->source : "",
			dwfl_errmsg(-1));
		return -GS_ERR_BAD_DWARF;
	}
	dwfl_module_getelf(mod, &main_bias);
	di->pub.bias = dw_bias - main_bias;
	di->pub.debug_elf = dwarf_getelf(di->pub.dwarf);
	di->pub.source = ctx->source ? ctx->source : strdup("embedded");
	ctx->source = NULL;
	return di->pub.source ? 0 : -ENOMEM;
}

int gs_debuginfo_open(const char *elf_path, const char *debug_file,
		      struct gs_debuginfo **di_ret)
{
	struct find_ctx ctx = { 0 };
	struct gs_elf *main_elf = NULL;
	struct debuginfo *di;
	char bin_id[41] = "";
	int err;

	*di_ret = NULL;
	di = calloc(1, sizeof(*di));
	if (!di)
		return -ENOMEM;
	err = gs_elf_open(elf_path, &main_elf);
	if (err)
		goto err_free;
	err = gs_elf_build_id(main_elf, bin_id);
	if (err == -GS_ERR_NO_BUILD_ID)
		err = 0;
	if (err)
		goto err_free;
	if (debug_file)
		err = open_debug_file(di, main_elf, bin_id, debug_file);
	else
		err = open_by_search(di, main_elf, bin_id, &ctx);
	if (err)
		goto err_free;
	if (di->pub.debug_elf)
		di->pub.dwarf_bytes = dwarf_section_bytes(di->pub.debug_elf);
	*di_ret = &di->pub;
	goto out;

err_free:
	gs_debuginfo_close(&di->pub);
out:
	gs_elf_close(main_elf);
	free(ctx.roots);
	free(ctx.source);
	return err;
}
