// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The thin libdw helper layer under the indexer's policy files: attribute getters that
 * follow DW_AT_abstract_origin / DW_AT_specification where the walk wants it, and
 * ranges with the debug file's bias applied. Nothing here decides what to index.
 */
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>

#include "indexer/internal.h"

const char *dw_die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;

	if (!dwarf_attr_integrate(die, DW_AT_name, &a))
		return NULL;
	return dwarf_formstring(&a);
}

const char *dw_die_linkage(Dwarf_Die *die)
{
	Dwarf_Attribute a;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		return dwarf_formstring(&a);
	return NULL;
}

bool dw_die_flag(Dwarf_Die *die, unsigned int at)
{
	Dwarf_Attribute a;
	bool v = false;

	if (!dwarf_attr_integrate(die, at, &a))
		return false;
	return dwarf_formflag(&a, &v) == 0 && v;
}

bool dw_die_udata(Dwarf_Die *die, unsigned int at, uint64_t *v)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr_integrate(die, at, &a) || dwarf_formudata(&a, &w))
		return false;
	*v = w;
	return true;
}

bool dw_die_ref(Dwarf_Die *die, unsigned int at, Dwarf_Die *ret)
{
	Dwarf_Attribute a;

	return dwarf_attr(die, at, &a) && dwarf_formref_die(&a, ret);
}

bool dw_die_has_pc(Dwarf_Die *die)
{
	return dwarf_hasattr(die, DW_AT_low_pc) || dwarf_hasattr(die, DW_AT_ranges);
}

int dw_die_ranges(Dwarf_Die *die, Dwarf_Addr bias, struct gs_range **r_ret, uint32_t *cnt_ret)
{
	Dwarf_Addr base, lo, hi;
	struct gs_range *r = NULL;
	size_t n = 0, cap = 0;
	ptrdiff_t off = 0;

	*r_ret = NULL;
	*cnt_ret = 0;
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		struct gs_range *e;

		if (hi <= lo)
			continue;
		if (n >= 4096)	/* hostile input: a function has a handful */
			break;
		e = IX_PUSH(r, n, cap);
		if (!e) {
			free(r);
			return -ENOMEM;
		}
		e->lo = lo + bias;
		e->hi = hi + bias;
	}
	*r_ret = r;
	*cnt_ret = n;
	return 0;
}

bool dw_die_entry(Dwarf_Die *die, const struct gs_range *r, uint32_t nr, Dwarf_Addr bias,
		  uint64_t *pc_ret)
{
	Dwarf_Attribute a;
	Dwarf_Addr pc;

	if (dwarf_attr(die, DW_AT_entry_pc, &a)) {
		Dwarf_Word off;

		/* DWARF 5 allows an offset from the base (low_pc or first range). */
		if (dwarf_whatform(&a) != DW_FORM_addr && dwarf_whatform(&a) != DW_FORM_addrx &&
		    dwarf_formudata(&a, &off) == 0 && nr) {
			*pc_ret = r[0].lo + off;
			return true;
		}
		if (dwarf_formaddr(&a, &pc) == 0) {
			*pc_ret = pc + bias;
			return true;
		}
	}
	if (dwarf_lowpc(die, &pc) == 0) {
		*pc_ret = pc + bias;
		return true;
	}
	if (nr) {
		*pc_ret = r[0].lo;
		return true;
	}
	return false;
}
