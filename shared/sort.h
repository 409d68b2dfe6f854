/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qsort(3) for arrays that may be empty: the growable arrays here start as NULL, and
 * qsort of a NULL base is undefined even for 0 elements (UBSan reports it).
 */
#ifndef GS_SHARED_SORT_H
#define GS_SHARED_SORT_H

#include <stdlib.h>

static inline void gs_qsort(void *base, size_t n, size_t size,
			    int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

#endif /* GS_SHARED_SORT_H */
