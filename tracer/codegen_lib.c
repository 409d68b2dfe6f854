// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The LLVM-free face of code generation in the ghostscope binary: gs_codegen_emit()
 * loads the LLVM library (libghostscope-codegen.so) on first use and calls into it;
 * the dry-run and option helpers, which need libbpf or the kernel only, live here too.
 *
 * Library lookup: $GHOSTSCOPE_CODEGEN_LIB, else the executable's directory (from
 * /proc/self/exe, so a build tree and an install both work without rpath or
 * LD_LIBRARY_PATH). A program that links codegen.o itself (test drivers) resolves
 * the weak gs_codegen_llvm_emit at link time and never loads the library.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>

#include "tracer/codegen.h"
#include "tracer/codegen_lib.h"

#pragma weak gs_codegen_llvm_emit

typedef int (*emit_fn)(const struct gs_ir_prog *const *, size_t, const struct gs_codegen_opts *,
		       void **, size_t *, char *, size_t);

static struct {
	pthread_once_t once;
	emit_fn emit;
	char path[PATH_MAX];
	char why[PATH_MAX + 128];	/* why the library could not be loaded */
} lib = { .once = PTHREAD_ONCE_INIT };

/* The library's path: the override, else next to the executable. 0 or -errno. */
static int lib_path(char *buf, size_t len)
{
	const char *env = getenv(GS_CODEGEN_LIB_ENV);
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		if (snprintf(buf, len, "%s", env) >= (int)len)
			return -ENAMETOOLONG;
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if (snprintf(buf, len, "%s/%s", exe, GS_CODEGEN_LIB_NAME) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static void lib_load(void)
{
	void *h;
	int e;

	e = lib_path(lib.path, sizeof(lib.path));
	if (e) {
		snprintf(lib.why, sizeof(lib.why), "cannot locate '%s': %s", GS_CODEGEN_LIB_NAME,
			 strerror(-e));
		return;
	}
	/*
	 * RTLD_LAZY: binding all of LLVM's symbols up front costs ~100 ms; RTLD_LOCAL:
	 * they stay out of the global scope.
	 */
	h = dlopen(lib.path, RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		snprintf(lib.why, sizeof(lib.why), "cannot load the code generator: %s", dlerror());
		return;
	}
	lib.emit = (emit_fn)dlsym(h, "gs_codegen_llvm_emit");
	if (!lib.emit)
		snprintf(lib.why, sizeof(lib.why), "'%s' lacks gs_codegen_llvm_emit", lib.path);
}

int gs_codegen_emit(const struct gs_ir_prog *const *progs, size_t nprogs,
		    const struct gs_codegen_opts *opts, void **obj_ret, size_t *len_ret,
		    char *err, size_t errlen)
{
	*obj_ret = NULL;
	*len_ret = 0;
	if (gs_codegen_llvm_emit)
		return gs_codegen_llvm_emit(progs, nprogs, opts, obj_ret, len_ret, err, errlen);
	pthread_once(&lib.once, lib_load);
	if (!lib.emit) {
		if (err && errlen)
			snprintf(err, errlen, "%s", lib.why);
		return -ELIBACC;
	}
	return lib.emit(progs, nprogs, opts, obj_ret, len_ret, err, errlen);
}

/* ---- generator identity -------------------------------------------------------------- */

/* The NT_GNU_BUILD_ID note of ELF file @path, read with a few preads (no libelf). */
static int file_build_id(const char *path, uint8_t *id, size_t cap)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	uint8_t notes[1024];
	int fd, ret = -ENOENT;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(ph)) {
		ret = -ENOEXEC;
		goto out;
	}
	for (unsigned i = 0; i < eh.e_phnum && ret == -ENOENT; i++) {
		size_t len, off = 0;

		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + (uint64_t)i * sizeof(ph)) != sizeof(ph))
			break;
		if (ph.p_type != PT_NOTE)
			continue;
		len = ph.p_filesz < sizeof(notes) ? ph.p_filesz : sizeof(notes);
		if (pread(fd, notes, len, ph.p_offset) != (ssize_t)len)
			break;
		while (off + sizeof(Elf64_Nhdr) <= len) {
			Elf64_Nhdr nh;
			size_t name_at = off + sizeof(nh), desc_at;

			memcpy(&nh, notes + off, sizeof(nh));
			desc_at = name_at + ((nh.n_namesz + 3) & ~3u);
			if (desc_at + nh.n_descsz > len)
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp(notes + name_at, "GNU", 4) && nh.n_descsz && nh.n_descsz <= cap) {
				memcpy(id, notes + desc_at, nh.n_descsz);
				ret = nh.n_descsz;
				break;
			}
			off = desc_at + ((nh.n_descsz + 3) & ~3u);
		}
	}
out:
	close(fd);
	return ret;
}

int gs_cg_generator_id(uint8_t *id, size_t cap)
{
	char path[PATH_MAX];
	int e;

	if (gs_codegen_llvm_emit)
		return file_build_id("/proc/self/exe", id, cap);
	e = lib_path(path, sizeof(path));
	return e ? e : file_build_id(path, id, cap);
}

/* ---- dry-run and option helpers --------------------------------------------------- */

int gs_codegen_insn_counts(const void *obj, size_t len, uint32_t *cnt_ret, size_t nprogs)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "ghostscope");
	struct bpf_object *bo;
	int ret = 0;

	bo = bpf_object__open_mem(obj, len, &oo);
	if (!bo)
		return -EINVAL;
	for (size_t i = 0; i < nprogs; i++) {
		char name[32];
		struct bpf_program *p;

		snprintf(name, sizeof(name), GS_CODEGEN_PROG_FMT, i);
		p = bpf_object__find_program_by_name(bo, name);
		if (!p) {
			ret = -EINVAL;
			break;
		}
		cnt_ret[i] = bpf_program__insn_cnt(p);
	}
	bpf_object__close(bo);
	return ret;
}

int gs_codegen_pidns(int pid, uint64_t *dev_ret, uint64_t *ino_ret)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	if (stat(path, &st))
		return -errno;
	*dev_ret = st.st_dev;
	*ino_ret = st.st_ino;
	return 0;
}
