/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the BPF loader: loader.c (open, attach, events) and bpfobj.c (our own
 * minimal ELF loader for the objects gs_codegen_emit() makes). Nothing else includes
 * this header; the loader's users see tracer/loader.h only.
 *
 * Ownership: a struct gs_bpfobj owns its copy of the object's bytes, its parsed BTF,
 * the initial values of its data maps, and every map, program and BTF fd it creates or
 * adopts; gs_bpfobj_close() closes and frees them all. A struct gs_bpfobj_map pointer
 * from gs_bpfobj_map() and a program fd from gs_bpfobj_prog_fd() stay valid until
 * gs_bpfobj_close() (the loader borrows the fds, it does not close them).
 */
#ifndef GS_TRACER_LOADER_INTERNAL_H
#define GS_TRACER_LOADER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gs_bpfobj;

/* One map as declared; the fields may be changed between open and load. */
struct gs_bpfobj_map {
	char name[64];		/* the variable (or data section) name */
	uint32_t type, key_size, value_size, max_entries, flags;
	/*
	 * Data section maps: the initial value (value_size bytes, owned by the object),
	 * written before the programs load; a ".rodata*" map is then frozen.
	 */
	void *data;
	bool frozen;
	int fd;			/* -1 until loaded, or an adopted fd (gs_bpfobj_map_adopt) */
};

/*
 * Parses @obj (@len bytes; copied). Returns 0 and *@ret, -EOPNOTSUPP for an object
 * this loader does not handle (libbpf's turn), -EINVAL for a malformed one, -ENOMEM;
 * @err says why. Nothing is created in the kernel.
 */
int gs_bpfobj_open(const void *obj, size_t len, struct gs_bpfobj **ret, char *err,
		   size_t errlen);
/* Closes every map and program fd the object owns and frees it. Accepts NULL. */
void gs_bpfobj_close(struct gs_bpfobj *o);

/* The map named @name (a ".maps" variable or a data section name), or NULL. */
struct gs_bpfobj_map *gs_bpfobj_map(struct gs_bpfobj *o, const char *name);
/*
 * Makes gs_bpfobj_load() use @fd (a map created elsewhere with the same type, sizes and
 * max_entries) instead of creating @m; the object owns @fd from now on.
 */
int gs_bpfobj_map_adopt(struct gs_bpfobj_map *m, int fd);
/* The index of program @name, or -ENOENT. */
int gs_bpfobj_prog(const struct gs_bpfobj *o, const char *name);
/* Program type and expected attach type of every program, set before the load. */
void gs_bpfobj_set_prog_type(struct gs_bpfobj *o, uint32_t prog_type, uint32_t attach_type);
/*
 * Creates the maps (but adopted ones), writes and freezes the data maps, applies the
 * relocations and loads every program. With @with_btf the BTF is loaded too, and a
 * rejection is -EINVAL "kernel rejected the BTF of the object". When the verifier
 * rejects a program: its errno, @err "program N: verifier rejected: <last lines>"
 * and *@bad_prog_ret = N (from its name gs_pN). After a failure only
 * gs_bpfobj_close() is left to do.
 */
int gs_bpfobj_load(struct gs_bpfobj *o, bool with_btf, int *bad_prog_ret, char *err,
		   size_t errlen);
/* The fd of loaded program @i, or -1 (owned by the object). */
int gs_bpfobj_prog_fd(const struct gs_bpfobj *o, int i);

/*
 * The last (up to 3) lines of a verifier log [@log, @end), joined by " | ", without
 * the kernel's closing "processed N insns" summary, into @out (always terminated).
 */
void gs_bpfobj_verifier_tail(const char *log, const char *end, char *out, size_t outlen);

/*
 * Starts a joinable thread with a small stack (loader.c). Returns 0 or a negative
 * errno; the caller joins @th.
 */
int gs_loader_thread_start(pthread_t *th, void *(*fn)(void *), void *arg);

#endif
