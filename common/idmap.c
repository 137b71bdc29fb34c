/* The append-sorted id map of idmap.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "idmap.h"

void
idmap_init(struct idmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
idmap_free(struct idmap *m)
{
	free(m->slots);
	idmap_init(m);
}

/* Closes the holes when they are at least half of the array. */
static void
idmap_compact(struct idmap *m)
{
	size_t j = 0;

	if (m->len - m->count < m->len / 2)
		return;
	for (size_t i = 0; i < m->len; i++)
		if (m->slots[i].obj != NULL)
			m->slots[j++] = m->slots[i];
	m->len = j;
}

int
idmap_add(struct idmap *m, uint64_t id, void *obj)
{
	struct idmap_slot *s;
	size_t cap;

	if (m->len > 0 && id <= m->slots[m->len - 1].id)
		return -1;
	if (m->len == m->cap)
		idmap_compact(m);
	if (m->len == m->cap) {
		cap = m->cap == 0 ? 64 : m->cap * 2;
		s = realloc(m->slots, cap * sizeof(*s));
		if (s == NULL)
			return -1;
		m->slots = s;
		m->cap = cap;
	}
	m->slots[m->len].id = id;
	m->slots[m->len].obj = obj;
	m->len++;
	m->count++;
	return 0;
}

static struct idmap_slot *
idmap_slot(const struct idmap *m, uint64_t id)
{
	size_t lo = 0, hi = m->len, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->slots[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->len && m->slots[lo].id == id && m->slots[lo].obj != NULL)
		return &m->slots[lo];
	return NULL;
}

void *
idmap_find(const struct idmap *m, uint64_t id)
{
	struct idmap_slot *s = idmap_slot(m, id);

	return s == NULL ? NULL : s->obj;
}

void *
idmap_remove(struct idmap *m, uint64_t id)
{
	struct idmap_slot *s = idmap_slot(m, id);
	void *obj;

	if (s == NULL)
		return NULL;
	obj = s->obj;
	s->obj = NULL;
	m->count--;
	return obj;
}
