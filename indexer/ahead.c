// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Work done ahead of the DWARF walk on a second thread, so that both cores index.
 *
 * libdw is not thread-safe, but two Dwarf handles on one ELF share nothing that
 * changes, so this thread opens its own and runs over the same units as ix_walk, in
 * the same order. For unit k it computes what depends on a DIE alone: the structural
 * hashes of the types declared at CU level (and in namespaces and classes), and the
 * encoded locations of every variable, parameter and call-site parameter. The walk of
 * unit k then looks these up by DIE offset instead of computing them, and computes
 * itself whatever is missing (types local to functions): the results do not depend on
 * which thread computed them, so the index is the same as with one thread.
 *
 * At most AHEAD_MAX units are ready and unread; the walk releases a unit when it is
 * through with it. The walk never waits: a unit this thread has not finished is
 * walked without help, and this thread skips the units the walk has passed, so two
 * threads are never slower than one (short of the duplicated work on a unit both
 * did). GS_INDEX_THREADS=1 turns the thread off (for comparisons).
 *
 * Memory, not instructions, was most of this thread's cost: a libdw handle keeps
 * what it parsed of every unit until it ends, and each fresh page is a fault and a
 * clear. So the thread ends its handle and opens a new one every AHEAD_RECYCLE units
 * (the results never point into the handle's memory), its result slots keep their
 * buffers from unit to unit, and its heap takes huge pages (indexer.c).
 */
#include <dwarf.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "indexer/internal.h"
#include "shared/errors.h"

/*
 * AHEAD_RECYCLE: units per libdw handle. A handle keeps every unit's abbreviations,
 * line tables and parsed location lists until it ends (128 MiB for python3.11d),
 * and fresh pages cost more than the work here; a new handle every few units reuses
 * the memory of the last one instead.
 */
enum { AHEAD_MAX = 16, AHEAD_RECYCLE = 8 };

struct ix_ahead {
	Elf *elf;			/* the walk's ELF, borrowed */
	Dwarf *dwarf;
	struct ix_model m;		/* only its bias is used, by loc.c */
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	size_t done, released;		/* units finished here; units the walk released */
	size_t want;			/* the first unit worth starting: the walk is past the others */
	size_t missed, skipped, stalls;	/* not ready for the walk; skipped; waits here */
	double cpu;			/* this thread's CPU seconds (GS_INDEX_TIMING) */
	struct ix_cu_ahead cus[AHEAD_MAX];	/* unit k in cus[k % AHEAD_MAX] */
};

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool is_type_tag(int tag)
{
	switch (tag) {
	case DW_TAG_base_type: case DW_TAG_pointer_type: case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type: case DW_TAG_ptr_to_member_type:
	case DW_TAG_structure_type: case DW_TAG_class_type: case DW_TAG_union_type:
	case DW_TAG_enumeration_type: case DW_TAG_array_type: case DW_TAG_typedef:
	case DW_TAG_const_type: case DW_TAG_volatile_type: case DW_TAG_restrict_type:
	case DW_TAG_atomic_type: case DW_TAG_subroutine_type:
		return true;
	default:
		return false;
	}
}

static struct ix_loc_ahead *new_ent(struct ix_cu_ahead *cu, uint64_t off)
{
	struct ix_loc_ahead *e = IX_PUSH(cu->ents, cu->nents, cu->capents);

	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->off = cu->data.len;
	if (ix_map_put(&cu->locs, off, cu->nents - 1)) {
		cu->nents--;
		return NULL;
	}
	return e;
}

/* Name, type and declaration line, as the walk would read them (see internal.h). */
static void var_refs(struct ix_ahead *ah, struct ix_loc_ahead *e, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Die t, check;
	int line = 0;

	if (!dwarf_attr_integrate(die, DW_AT_name, &a)) {
		e->name_ok = true;	/* no name */
	} else if (dwarf_cu_getdwarf(a.cu) == ah->dwarf && a.form != DW_FORM_GNU_strp_alt &&
		   a.form != DW_FORM_strp_sup) {
		e->name = dwarf_formstring(&a);
		e->name_ok = true;
	}
	if (!dwarf_attr_integrate(die, DW_AT_type, &a)) {
		e->type_ok = true;	/* void */
	} else if (dwarf_formref_die(&a, &t) && dwarf_cu_getdwarf(t.cu) == ah->dwarf &&
		   dwarf_offdie(ah->dwarf, dwarf_dieoffset(&t), &check) && check.addr == t.addr) {
		e->type_off = dwarf_dieoffset(&t);
		e->type_ok = e->type_off != 0;
	}
	e->decl_line = dwarf_decl_line(die, &line) == 0 && line > 0 ? (uint32_t)line : 0;
}

static void var_loc(struct ix_ahead *ah, struct ix_cu_ahead *cu, Dwarf_Die *die)
{
	struct ix_loc_ahead *e = new_ent(cu, dwarf_dieoffset(die));
	unsigned int what = 0;
	size_t start = cu->data.len;

	if (!e)
		return;
	if (ix_loc_var(&ah->m, die, &cu->data, &what)) {
		cu->data.len = start;
		ix_map_put(&cu->locs, dwarf_dieoffset(die), UINT64_MAX);	/* not here */
		cu->nents--;
		return;
	}
	e = &cu->ents[cu->nents - 1];
	e->len = cu->data.len - start;
	e->what = (uint8_t)what;
	e->is_static = ix_loc_static_addr(&ah->m, die, &e->static_addr);
	e->external = dw_die_flag(die, DW_AT_external);
	e->artificial = dw_die_flag(die, DW_AT_artificial);
	var_refs(ah, e, die);
}

static void call_param_loc(struct ix_ahead *ah, struct ix_cu_ahead *cu, Dwarf_Die *c)
{
	Dwarf_Attribute loc, val;
	struct ix_loc_ahead *e;
	size_t start = cu->data.len;
	int ret;

	if (!dwarf_attr(c, DW_AT_call_value, &val) &&
	    !dwarf_attr(c, DW_AT_GNU_call_site_value, &val))
		return;
	e = new_ent(cu, dwarf_dieoffset(c));
	if (!e)
		return;
	ret = ix_loc_expr_attr(&ah->m, dwarf_attr(c, DW_AT_location, &loc) ? &loc : NULL,
			       &cu->data);
	if (!ret)
		ret = ix_loc_expr_attr(&ah->m, &val, &cu->data);
	e = &cu->ents[cu->nents - 1];
	e->len = cu->data.len - start;
	if (ret) {
		cu->data.len = start;
		ix_map_put(&cu->locs, dwarf_dieoffset(c), UINT64_MAX);
		cu->nents--;
	}
}

static void ahead_die_tree(struct ix_ahead *ah, struct ix_cu_ahead *cu, Dwarf_Die *die,
			   int depth)
{
	Dwarf_Die c;

	if (depth > GS_SCOPE_MAX_DEPTH + 32 || dwarf_child(die, &c) != 0)
		return;
	do {
		int tag = dwarf_tag(&c);

		if (is_type_tag(tag) && depth < 34)
			ix_type_hash(&cu->hashes, NULL, &c);
		switch (tag) {
		case DW_TAG_variable:
		case DW_TAG_formal_parameter:
			if (dwarf_tag(die) != DW_TAG_subroutine_type)
				var_loc(ah, cu, &c);
			break;
		case DW_TAG_call_site_parameter:
		case DW_TAG_GNU_call_site_parameter:
			call_param_loc(ah, cu, &c);
			break;
		case DW_TAG_enumeration_type:
		case DW_TAG_subroutine_type:
		case DW_TAG_array_type:
		case DW_TAG_base_type:
			break;
		default:
			if (dwarf_haschildren(&c))
				ahead_die_tree(ah, cu, &c, depth + 1);
			break;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
}

static void map_clear(struct ix_map *m)
{
	if (m->cap)
		memset(m->used, 0, m->cap);
	m->cnt = 0;
}

/*
 * Empties a slot for its next unit but keeps its memory: freeing it per unit
 * interleaved with libdw's allocations, which live until the end, and fragmented
 * this thread's heap into ever more fresh pages.
 */
static void cu_reset(struct ix_cu_ahead *cu)
{
	map_clear(&cu->hashes);
	map_clear(&cu->locs);
	cu->nents = 0;
	gs_enc_reset(&cu->data);
}

/*
 * Ends the handle and opens a new one positioned after its first @nraw units (all
 * kinds, as dwarf_get_units counts them). False when that fails: no more help.
 */
static bool reopen(struct ix_ahead *ah, size_t nraw, Dwarf_CU **unit_ret)
{
	Dwarf_CU *unit = NULL, *next;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie, subdie;

	dwarf_end(ah->dwarf);
	ah->dwarf = dwarf_begin_elf(ah->elf, DWARF_C_READ, NULL);
	if (!ah->dwarf)
		return false;
	for (size_t i = 0; i < nraw; i++) {
		if (dwarf_get_units(ah->dwarf, unit, &next, &version, &unit_type, &cudie, &subdie))
			return false;
		unit = next;
	}
	*unit_ret = unit;
	return true;
}

static void *ahead_main(void *arg)
{
	struct ix_ahead *ah = arg;
	Dwarf_CU *unit = NULL, *next;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie, subdie;
	size_t nraw = 0, since = 0;
	bool split = false;	/* skeleton units: re-counting would reopen their .dwo files */

	ix_heap_advise_thread();
	while (dwarf_get_units(ah->dwarf, unit, &next, &version, &unit_type, &cudie, &subdie) == 0) {
		struct ix_cu_ahead *cu;
		bool skip;
		size_t k;

		unit = next;
		nraw++;
		if (unit_type == DW_UT_type || unit_type == DW_UT_split_type)
			continue;
		if (unit_type == DW_UT_skeleton)
			split = true;
		if (unit_type == DW_UT_skeleton && dwarf_tag(&subdie) == DW_TAG_compile_unit)
			cudie = subdie;
		pthread_mutex_lock(&ah->lock);
		if (!ah->stop && ah->done - ah->released >= AHEAD_MAX)
			ah->stalls++;
		while (!ah->stop && ah->done - ah->released >= AHEAD_MAX)
			pthread_cond_wait(&ah->cond, &ah->lock);
		k = ah->done;
		skip = k < ah->want;	/* the walk did this unit itself */
		if (skip)
			ah->skipped++;
		pthread_mutex_unlock(&ah->lock);
		if (ah->stop)
			break;
		cu = &ah->cus[k % AHEAD_MAX];
		cu_reset(cu);
		if (!skip) {
			ahead_die_tree(ah, cu, &cudie, 0);
			since++;
		}
		pthread_mutex_lock(&ah->lock);
		ah->done++;
		pthread_cond_broadcast(&ah->cond);
		pthread_mutex_unlock(&ah->lock);
		if (since >= AHEAD_RECYCLE && !split) {
			since = 0;
			if (!reopen(ah, nraw, &unit))
				break;
		}
	}
	/* the results are copies: the handle goes now, while the walk finishes */
	dwarf_end(ah->dwarf);
	ah->dwarf = NULL;
	ah->cpu = thread_cpu();
	return NULL;
}

static void cu_free(struct ix_cu_ahead *cu)
{
	ix_map_deinit(&cu->hashes);
	ix_map_deinit(&cu->locs);
	free(cu->ents);
	gs_enc_deinit(&cu->data);
}

int ix_ahead_start(Dwarf *dwarf, uint64_t bias, struct ix_ahead **ah_ret)
{
	struct ix_ahead *ah = calloc(1, sizeof(*ah));
	Elf *elf = dwarf_getelf(dwarf);

	*ah_ret = NULL;
	if (!ah)
		return -ENOMEM;
	ah->elf = elf;
	ah->dwarf = elf ? dwarf_begin_elf(elf, DWARF_C_READ, NULL) : NULL;
	if (!ah->dwarf) {
		free(ah);
		return -GS_ERR_BAD_DWARF;
	}
	ix_model_init(&ah->m);
	ah->m.bias = bias;
	pthread_mutex_init(&ah->lock, NULL);
	pthread_cond_init(&ah->cond, NULL);
	if (pthread_create(&ah->th, NULL, ahead_main, ah)) {
		dwarf_end(ah->dwarf);
		ix_model_deinit(&ah->m);
		free(ah);
		return -EAGAIN;
	}
	*ah_ret = ah;
	return 0;
}

const struct ix_cu_ahead *ix_ahead_get(struct ix_ahead *ah, size_t k)
{
	const struct ix_cu_ahead *cu = NULL;

	if (!ah)
		return NULL;
	/* never wait: a unit not ready yet is walked without help, and skipped here */
	pthread_mutex_lock(&ah->lock);
	if (k + 1 > ah->want)
		ah->want = k + 1;	/* not worth starting k now: the walk is on it */
	if (ah->done > k && ah->released <= k)
		cu = &ah->cus[k % AHEAD_MAX];
	else
		ah->missed++;
	pthread_mutex_unlock(&ah->lock);
	return cu;
}

void ix_ahead_release(struct ix_ahead *ah, size_t k)
{
	if (!ah)
		return;
	pthread_mutex_lock(&ah->lock);
	if (k + 1 > ah->want)
		ah->want = k + 1;
	/* every finished unit up to k (the thread may still be busy with an older one);
	 * their slots are emptied when they are reused */
	while (ah->released <= k && ah->released < ah->done)
		ah->released++;
	pthread_cond_broadcast(&ah->cond);
	pthread_mutex_unlock(&ah->lock);
}

void ix_ahead_stop(struct ix_ahead *ah)
{
	if (!ah)
		return;
	pthread_mutex_lock(&ah->lock);
	ah->stop = true;
	pthread_cond_broadcast(&ah->cond);
	pthread_mutex_unlock(&ah->lock);
	pthread_join(ah->th, NULL);
	if (getenv("GS_INDEX_TIMING"))
		fprintf(stderr, "indexer: ahead: %zu units, %zu walked without help, %zu skipped, "
			"ahead waited %zu; walk thread cpu %.3f s, ahead thread cpu %.3f s\n",
			ah->done, ah->missed, ah->skipped, ah->stalls, thread_cpu(), ah->cpu);
	for (size_t i = 0; i < AHEAD_MAX; i++)
		cu_free(&ah->cus[i]);
	pthread_mutex_destroy(&ah->lock);
	pthread_cond_destroy(&ah->cond);
	ix_model_deinit(&ah->m);
	free(ah);
}

const struct ix_loc_ahead *ix_ahead_loc(const struct ix_cu_ahead *cu, uint64_t off)
{
	uint64_t i;

	if (!cu || !ix_map_get(&cu->locs, off, &i) || i >= cu->nents)
		return NULL;
	return &cu->ents[i];
}
