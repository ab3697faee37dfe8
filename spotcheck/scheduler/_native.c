/* Native loops: the two SHA-256 streams a plan hashes in bulk (DESIGN §6), assign-v2's
 * mixed costs, and the shortest paths of the optimality proof (scheduler/optimality.py).
 *
 * draw-v1 tickets: sha256(prefix + enterprise_id) for every eligible enterprise of a task.
 * assign-v1 costs: int(sha256(prefix + enterprise_id + ":" + inspector_id)[:10], 16) for
 * every lawful (visit, officer) pair, keeping each visit's cheapest pairs.
 * assign-v2 costs: mix64(visit_key XOR officer_key) >> 24 for every lawful pair, from keys
 * hashed beforehand (one per visit, one per officer), keeping each visit's cheapest pairs.
 *
 * All compute exactly what scheduler/hashes.py defines; scheduler/fasthash.py and
 * scheduler/costs.py fall back to hashlib and numpy when this module was not built, and the
 * tests compare the two byte for byte. The loops run without the GIL, so callers may split
 * the work over threads.
 */
#define PY_SSIZE_T_CLEAN
#define OPENSSL_SUPPRESS_DEPRECATED
#include <Python.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define NO_PAIR_LEFT_OUT ((int64_t)1 << 62) /* above every cost, and cost + price */

/* Length of a fixed-width numpy 'S' item: trailing NUL bytes are padding. */
static Py_ssize_t item_length(const unsigned char *item, Py_ssize_t width) {
    while (width > 0 && item[width - 1] == 0) {
        width--;
    }
    return width;
}

static PyObject *digests(PyObject *self, PyObject *args) {
    Py_buffer prefix, items;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "y*y*n", &prefix, &items, &width)) {
        return NULL;
    }
    PyObject *result = NULL;
    if (width <= 0 || items.len % width != 0) {
        PyErr_SetString(PyExc_ValueError, "items must be a whole number of fixed-width ids");
        goto done;
    }
    Py_ssize_t n = items.len / width;
    result = PyBytes_FromStringAndSize(NULL, n * SHA256_DIGEST_LENGTH);
    if (result == NULL) {
        goto done;
    }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    const unsigned char *base = items.buf;
    Py_BEGIN_ALLOW_THREADS
    SHA256_CTX start, state;
    SHA256_Init(&start);
    SHA256_Update(&start, prefix.buf, (size_t)prefix.len);
    for (Py_ssize_t i = 0; i < n; i++) {
        const unsigned char *item = base + i * width;
        state = start;
        SHA256_Update(&state, item, (size_t)item_length(item, width));
        SHA256_Final(out + i * SHA256_DIGEST_LENGTH, &state);
    }
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&prefix);
    PyBuffer_Release(&items);
    return result;
}

static int writable_int64(PyObject *obj, Py_buffer *view, Py_ssize_t at_least, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        return -1;
    }
    if (view->itemsize != 8 || view->len < at_least * 8) {
        PyErr_Format(PyExc_ValueError, "%s must be a writable int64 array of %zd items", what,
                     at_least);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* The lawful officers of visits [start, stop): a buffer per visit (views[v - start]), each
 * an int64 array of indexes below n_officers. Returns how many views were taken (to be
 * released), or -1 - taken with an exception set. */
static Py_ssize_t lawful_views(PyObject *lawful, Py_ssize_t start, Py_ssize_t stop,
                               Py_ssize_t n_officers, Py_buffer *views) {
    Py_ssize_t taken = 0;
    for (Py_ssize_t v = start; v < stop; v++) {
        Py_buffer *view = &views[v - start];
        if (PyObject_GetBuffer(PyList_GET_ITEM(lawful, v), view, PyBUF_C_CONTIGUOUS) < 0) {
            return -1 - taken;
        }
        taken++;
        if (view->itemsize != 8 || view->len % 8 != 0) {
            PyErr_SetString(PyExc_ValueError, "lawful officers must be int64 arrays");
            return -1 - taken;
        }
        const int64_t *members = view->buf;
        for (Py_ssize_t k = 0; k < view->len / 8; k++) {
            if (members[k] < 0 || members[k] >= n_officers) {
                PyErr_SetString(PyExc_ValueError, "a lawful officer index is out of range");
                return -1 - taken;
            }
        }
    }
    return taken;
}

/* The `keep` cheapest pairs of one visit so far, sorted by (cost, position in lawful[v]),
 * and the cheapest cost pushed out. */
typedef struct {
    int64_t *cost, *at;
    Py_ssize_t held, keep;
    int64_t left;
} Cheapest;

static void cheapest_start(Cheapest *best) {
    best->held = 0;
    best->left = NO_PAIR_LEFT_OUT;
}

static void cheapest_offer(Cheapest *best, int64_t cost, Py_ssize_t k) {
    /* best->cost stays sorted by (cost, position); the one pushed out is left out. */
    Py_ssize_t at = best->held, keep = best->keep;
    while (at > 0 && best->cost[at - 1] > cost) {
        at--;
    }
    if (at == keep) {
        if (cost < best->left) {
            best->left = cost;
        }
        return;
    }
    if (best->held == keep) {
        if (best->cost[keep - 1] < best->left) {
            best->left = best->cost[keep - 1];
        }
        best->held--;
    }
    Py_ssize_t held = best->held;
    memmove(best->cost + at + 1, best->cost + at, sizeof(int64_t) * (size_t)(held - at));
    memmove(best->at + at + 1, best->at + at, sizeof(int64_t) * (size_t)(held - at));
    best->cost[at] = cost;
    best->at[at] = k;
    best->held++;
}

/* Write the kept pairs in the order of lawful[v] (an insertion sort by position). */
static void cheapest_write(Cheapest *best, const int64_t *members, int64_t *to_officers,
                           int64_t *to_costs) {
    for (Py_ssize_t a = 1; a < best->held; a++) {
        int64_t c = best->cost[a], p = best->at[a];
        Py_ssize_t b = a;
        while (b > 0 && best->at[b - 1] > p) {
            best->at[b] = best->at[b - 1];
            best->cost[b] = best->cost[b - 1];
            b--;
        }
        best->at[b] = p;
        best->cost[b] = c;
    }
    for (Py_ssize_t a = 0; a < best->held; a++) {
        to_officers[a] = members[best->at[a]];
        to_costs[a] = best->cost[a];
    }
}

/* cheapest(prefix, visit_ids, id_width, lawful, officer_ids, officer_width, keep, start, stop,
 *          out_officers, out_costs, out_sizes, out_left)
 *
 * For visits [start, stop): visit v's enterprise id is item v of visit_ids, its lawful officers
 * the int64 array lawful[v] (indexes into officer_ids). Writes the `keep` cheapest pairs by
 * (cost, position in lawful[v]), in the order of lawful[v], to out_officers/out_costs at
 * v*keep, their number to out_sizes[v], and the cheapest cost not kept (2^40 when none) to
 * out_left[v].
 */
static PyObject *cheapest(PyObject *self, PyObject *args) {
    Py_buffer prefix, visit_ids, officer_ids;
    Py_ssize_t id_width, officer_width, keep, start, stop;
    PyObject *lawful, *o_officers, *o_costs, *o_sizes, *o_left;
    if (!PyArg_ParseTuple(args, "y*y*nOy*nnnnOOOO", &prefix, &visit_ids, &id_width, &lawful,
                          &officer_ids, &officer_width, &keep, &start, &stop, &o_officers,
                          &o_costs, &o_sizes, &o_left)) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_buffer out_officers = {0}, out_costs = {0}, out_sizes = {0}, out_left = {0};
    Py_buffer *views = NULL;
    Py_ssize_t taken = 0, n_visits = 0, n_officers = 0;
    if (id_width <= 0 || officer_width <= 0 || keep <= 0 || visit_ids.len % id_width != 0
        || officer_ids.len % officer_width != 0 || !PyList_Check(lawful)) {
        PyErr_SetString(PyExc_ValueError, "bad widths, keep or lawful list");
        goto done;
    }
    n_visits = visit_ids.len / id_width;
    n_officers = officer_ids.len / officer_width;
    if (start < 0 || stop > n_visits || start > stop || PyList_GET_SIZE(lawful) != n_visits) {
        PyErr_SetString(PyExc_ValueError, "visit range outside the visits");
        goto done;
    }
    if (writable_int64(o_officers, &out_officers, n_visits * keep, "out_officers") < 0) {
        goto done;
    }
    if (writable_int64(o_costs, &out_costs, n_visits * keep, "out_costs") < 0) {
        goto done;
    }
    if (writable_int64(o_sizes, &out_sizes, n_visits, "out_sizes") < 0) {
        goto done;
    }
    if (writable_int64(o_left, &out_left, n_visits, "out_left") < 0) {
        goto done;
    }
    views = PyMem_Calloc((size_t)(stop - start) + 1, sizeof(Py_buffer));
    if (views == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    taken = lawful_views(lawful, start, stop, n_officers, views);
    if (taken < 0) {
        taken = -1 - taken;
        goto done;
    }
    int64_t *kept_officers = out_officers.buf, *kept_costs = out_costs.buf;
    int64_t *sizes = out_sizes.buf, *left = out_left.buf;
    const unsigned char *ids = visit_ids.buf, *officers = officer_ids.buf;
    int64_t *best_cost = PyMem_Malloc(sizeof(int64_t) * (size_t)(keep + 1));
    int64_t *best_at = PyMem_Malloc(sizeof(int64_t) * (size_t)(keep + 1));
    if (best_cost == NULL || best_at == NULL) {
        PyMem_Free(best_cost);
        PyMem_Free(best_at);
        PyErr_NoMemory();
        goto done;
    }
    Cheapest best = {best_cost, best_at, 0, keep, 0};
    Py_BEGIN_ALLOW_THREADS
    SHA256_CTX head, visit, state;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_Init(&head);
    SHA256_Update(&head, prefix.buf, (size_t)prefix.len);
    for (Py_ssize_t v = start; v < stop; v++) {
        const int64_t *members = views[v - start].buf;
        Py_ssize_t count = views[v - start].len / 8;
        const unsigned char *enterprise = ids + v * id_width;
        visit = head;
        SHA256_Update(&visit, enterprise, (size_t)item_length(enterprise, id_width));
        SHA256_Update(&visit, ":", 1);
        cheapest_start(&best);
        for (Py_ssize_t k = 0; k < count; k++) {
            const unsigned char *officer = officers + members[k] * officer_width;
            state = visit;
            SHA256_Update(&state, officer, (size_t)item_length(officer, officer_width));
            SHA256_Final(digest, &state);
            int64_t cost = ((int64_t)digest[0] << 32) | ((int64_t)digest[1] << 24)
                           | ((int64_t)digest[2] << 16) | ((int64_t)digest[3] << 8)
                           | (int64_t)digest[4];
            cheapest_offer(&best, cost, k);
        }
        cheapest_write(&best, members, kept_officers + v * keep, kept_costs + v * keep);
        sizes[v] = best.held;
        left[v] = best.left;
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(best_cost);
    PyMem_Free(best_at);
    result = Py_None;
    Py_INCREF(result);
done:
    for (Py_ssize_t i = 0; i < taken; i++) {
        PyBuffer_Release(&views[i]);
    }
    PyMem_Free(views);
    if (out_officers.obj) PyBuffer_Release(&out_officers);
    if (out_costs.obj) PyBuffer_Release(&out_costs);
    if (out_sizes.obj) PyBuffer_Release(&out_sizes);
    if (out_left.obj) PyBuffer_Release(&out_left);
    PyBuffer_Release(&prefix);
    PyBuffer_Release(&visit_ids);
    PyBuffer_Release(&officer_ids);
    return result;
}

/* splitmix64's finaliser (assign-v2's mix64; unsigned arithmetic wraps modulo 2^64). */
static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Move the k-th smallest of n distinct values to values[k], the smaller ones before it and
 * the larger after it (quickselect, median-of-three pivots). */
static void select_kth(uint64_t *values, Py_ssize_t n, Py_ssize_t k) {
    Py_ssize_t lo = 0, hi = n - 1;
    while (hi > lo) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        uint64_t a = values[lo], b = values[mid], c = values[hi];
        uint64_t pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        Py_ssize_t i = lo, j = hi;
        while (i <= j) {
            while (values[i] < pivot) i++;
            while (values[j] > pivot) j--;
            if (i <= j) {
                uint64_t t = values[i];
                values[i] = values[j];
                values[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j) {
            hi = j;
        } else if (k >= i) {
            lo = i;
        } else {
            return;
        }
    }
}

#define POSITION_BITS 24 /* a visit's lawful officers are ranked as (cost << 24) | position */
#define PRICED_POSITION_BITS 21 /* ... or as ((cost + price) << 21) | position: 43 + 21 bits */

/* cheapest_mixed(visit_keys, lawful, officer_keys, keep, start, stop,
 *                out_officers, out_costs, out_sizes, out_left[, prices])
 *
 * As cheapest(), for assign-v2: visit v's pairs cost mix64(visit_keys[v] ^ officer_keys[o])
 * >> 24 for each o in lawful[v]; the keys are uint64 arrays hashed beforehand. Mixing is
 * cheap, so the selection is what is made fast: each pair is ranked by one distinct integer,
 * (cost << 24) | position, and the ranks below the (keep+1)-th smallest (quickselect) kept.
 * With `prices` (int64 per officer, each in [0, 2^42)) pairs are ranked by cost + price
 * instead, as ((cost + price) << 21) | position; the kept costs are still the plain costs,
 * and out_left is the smallest cost + price left out.
 */
static PyObject *cheapest_mixed(PyObject *self, PyObject *args) {
    Py_buffer visit_keys, officer_keys;
    Py_ssize_t keep, start, stop;
    PyObject *lawful, *o_officers, *o_costs, *o_sizes, *o_left, *o_prices = Py_None;
    if (!PyArg_ParseTuple(args, "y*Oy*nnnOOOO|O", &visit_keys, &lawful, &officer_keys, &keep,
                          &start, &stop, &o_officers, &o_costs, &o_sizes, &o_left,
                          &o_prices)) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_buffer out_officers = {0}, out_costs = {0}, out_sizes = {0}, out_left = {0};
    Py_buffer officer_prices = {0};
    Py_buffer *views = NULL;
    uint64_t *costs = NULL, *ranked = NULL;
    Py_ssize_t taken = 0, n_visits = visit_keys.len / 8, n_officers = officer_keys.len / 8;
    if (keep <= 0 || visit_keys.len % 8 != 0 || officer_keys.len % 8 != 0
        || !PyList_Check(lawful)) {
        PyErr_SetString(PyExc_ValueError, "bad keys, keep or lawful list");
        goto done;
    }
    if (start < 0 || stop > n_visits || start > stop || PyList_GET_SIZE(lawful) != n_visits) {
        PyErr_SetString(PyExc_ValueError, "visit range outside the visits");
        goto done;
    }
    if (writable_int64(o_officers, &out_officers, n_visits * keep, "out_officers") < 0
        || writable_int64(o_costs, &out_costs, n_visits * keep, "out_costs") < 0
        || writable_int64(o_sizes, &out_sizes, n_visits, "out_sizes") < 0
        || writable_int64(o_left, &out_left, n_visits, "out_left") < 0) {
        goto done;
    }
    if (o_prices != Py_None) {
        if (PyObject_GetBuffer(o_prices, &officer_prices, PyBUF_C_CONTIGUOUS) < 0) {
            goto done;
        }
        if (officer_prices.len != n_officers * 8) {
            PyErr_SetString(PyExc_ValueError, "prices: one int64 per officer expected");
            goto done;
        }
    }
    const int64_t *prices = officer_prices.obj ? officer_prices.buf : NULL;
    int shift = prices ? PRICED_POSITION_BITS : POSITION_BITS;
    if (prices) {
        for (Py_ssize_t o = 0; o < n_officers; o++) {
            if (prices[o] < 0 || prices[o] >= ((int64_t)1 << 42)) {
                PyErr_SetString(PyExc_ValueError, "prices must lie in [0, 2^42)");
                goto done;
            }
        }
    }
    views = PyMem_Calloc((size_t)(stop - start) + 1, sizeof(Py_buffer));
    if (views == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    taken = lawful_views(lawful, start, stop, n_officers, views);
    if (taken < 0) {
        taken = -1 - taken;
        goto done;
    }
    Py_ssize_t widest = 1;
    for (Py_ssize_t v = start; v < stop; v++) {
        if (views[v - start].len / 8 > widest) {
            widest = views[v - start].len / 8;
        }
    }
    if (widest >= ((Py_ssize_t)1 << shift)) {
        PyErr_SetString(PyExc_ValueError, "a visit has too many lawful officers to rank");
        goto done;
    }
    costs = PyMem_Malloc(sizeof(uint64_t) * (size_t)widest);
    ranked = PyMem_Malloc(sizeof(uint64_t) * (size_t)widest);
    if (costs == NULL || ranked == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t *kept_officers = out_officers.buf, *kept_costs = out_costs.buf;
    int64_t *sizes = out_sizes.buf, *left = out_left.buf;
    const uint64_t *vkeys = visit_keys.buf, *okeys = officer_keys.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t v = start; v < stop; v++) {
        const int64_t *members = views[v - start].buf;
        Py_ssize_t count = views[v - start].len / 8, held = 0;
        uint64_t key = vkeys[v], threshold = 0;
        int64_t *to_officers = kept_officers + v * keep, *to_costs = kept_costs + v * keep;
        for (Py_ssize_t k = 0; k < count; k++) {
            costs[k] = mix64(key ^ okeys[members[k]]) >> 24;
        }
        left[v] = NO_PAIR_LEFT_OUT;
        if (count > keep) {
            for (Py_ssize_t k = 0; k < count; k++) {
                uint64_t rank = prices ? costs[k] + (uint64_t)prices[members[k]] : costs[k];
                ranked[k] = (rank << shift) | (uint64_t)k;
            }
            select_kth(ranked, count, keep);  /* ranked[keep]: the cheapest pair left out */
            threshold = ranked[keep];
            left[v] = (int64_t)(threshold >> shift);
        }
        for (Py_ssize_t k = 0; k < count; k++) {
            uint64_t rank = prices ? costs[k] + (uint64_t)prices[members[k]] : costs[k];
            if (count <= keep || ((rank << shift) | (uint64_t)k) < threshold) {
                to_officers[held] = members[k];
                to_costs[held] = (int64_t)costs[k];
                held++;
            }
        }
        sizes[v] = held;
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    for (Py_ssize_t i = 0; i < taken; i++) {
        PyBuffer_Release(&views[i]);
    }
    PyMem_Free(views);
    PyMem_Free(costs);
    PyMem_Free(ranked);
    if (out_officers.obj) PyBuffer_Release(&out_officers);
    if (out_costs.obj) PyBuffer_Release(&out_costs);
    if (out_sizes.obj) PyBuffer_Release(&out_sizes);
    if (out_left.obj) PyBuffer_Release(&out_left);
    if (officer_prices.obj) PyBuffer_Release(&officer_prices);
    PyBuffer_Release(&visit_keys);
    PyBuffer_Release(&officer_keys);
    return result;
}

/* The weight of a cycle in the parent graph, or 0 when it has none. A cycle there always
 * has negative weight (a standard property of Bellman-Ford relaxations). */
static int64_t parent_cycle(Py_ssize_t n, const int64_t *parent, const int64_t *parent_weight,
                            int64_t *mark) {
    memset(mark, 0, sizeof(int64_t) * (size_t)n);
    for (Py_ssize_t s = 0; s < n; s++) {
        int64_t x = s;
        while (x >= 0 && mark[x] == 0) {
            mark[x] = s + 1;
            x = parent[x];
        }
        if (x >= 0 && mark[x] == s + 1) {
            int64_t y = x, total = 0;
            do {
                total += parent_weight[y];
                y = parent[y];
            } while (y != x);
            return total < 0 ? total : -1;
        }
    }
    return 0;
}

/* shortest(n_nodes, tails, heads, weights, out_distance[, warm]) -> (cycle_weight, scans)
 *
 * Shortest distances from a virtual source joined to every node by a 0-weight arc, over
 * the arcs tails[k] -> heads[k] of weight weights[k] (int64), by Bellman-Ford with a FIFO
 * queue (only nodes whose distance fell are scanned again). Writes the distances to
 * out_distance and returns (0, scans) when no cycle of negative weight exists; otherwise
 * (the weight of one negative cycle, scans). With `warm` the virtual source's arcs weigh
 * what out_distance holds on entry instead of 0 (the result is then the largest feasible
 * potentials below those values); whether a negative cycle exists does not depend on it.
 * Exact integer arithmetic throughout.
 */
static PyObject *shortest(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    Py_buffer tails, heads, weights;
    PyObject *o_distance;
    int warm = 0;
    if (!PyArg_ParseTuple(args, "ny*y*y*O|p", &n, &tails, &heads, &weights, &o_distance,
                          &warm)) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_buffer out = {0};
    int64_t *start = NULL, *arc_head = NULL, *arc_weight = NULL, *parent = NULL;
    int64_t *parent_weight = NULL, *mark = NULL, *queue = NULL;
    char *queued = NULL;
    Py_ssize_t m = tails.len / 8;
    if (n < 0 || tails.len % 8 || heads.len != tails.len || weights.len != tails.len) {
        PyErr_SetString(PyExc_ValueError, "tails, heads and weights must be int64 arrays of "
                        "one length");
        goto done;
    }
    if (writable_int64(o_distance, &out, n, "out_distance") < 0) {
        goto done;
    }
    const int64_t *tail = tails.buf, *head = heads.buf, *weight = weights.buf;
    for (Py_ssize_t k = 0; k < m; k++) {
        if (tail[k] < 0 || tail[k] >= n || head[k] < 0 || head[k] >= n) {
            PyErr_SetString(PyExc_ValueError, "an arc names a node outside the network");
            goto done;
        }
    }
    start = PyMem_Calloc((size_t)n + 2, sizeof(int64_t));
    arc_head = PyMem_Malloc(sizeof(int64_t) * ((size_t)m + 1));
    arc_weight = PyMem_Malloc(sizeof(int64_t) * ((size_t)m + 1));
    parent = PyMem_Malloc(sizeof(int64_t) * ((size_t)n + 1));
    parent_weight = PyMem_Calloc((size_t)n + 1, sizeof(int64_t));
    mark = PyMem_Malloc(sizeof(int64_t) * ((size_t)n + 1));
    queue = PyMem_Malloc(sizeof(int64_t) * ((size_t)n + 1));
    queued = PyMem_Calloc((size_t)n + 1, 1);
    if (!start || !arc_head || !arc_weight || !parent || !parent_weight || !mark || !queue
        || !queued) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t *distance = out.buf;
    int64_t cycle = 0, scans = 0;
    Py_BEGIN_ALLOW_THREADS
    /* Arcs by tail (counting sort), so each node's out-arcs are contiguous. */
    for (Py_ssize_t k = 0; k < m; k++) {
        start[tail[k] + 2]++;
    }
    for (Py_ssize_t v = 0; v < n; v++) {
        start[v + 2] += start[v + 1];
    }
    for (Py_ssize_t k = 0; k < m; k++) {
        int64_t at = start[tail[k] + 1]++;
        arc_head[at] = head[k];
        arc_weight[at] = weight[k];
    }
    Py_ssize_t first = 0, count = 0;
    for (Py_ssize_t v = 0; v < n; v++) {
        if (!warm) {
            distance[v] = 0;
        }
        parent[v] = -1;
        queue[count++] = v;
        queued[v] = 1;
    }
    int64_t since_check = 0;
    while (count > 0) {
        int64_t u = queue[first];
        first = (first + 1) % (n + 1);
        count--;
        queued[u] = 0;
        scans++;
        for (int64_t k = start[u]; k < start[u + 1]; k++) {
            int64_t v = arc_head[k], candidate = distance[u] + arc_weight[k];
            if (candidate < distance[v]) {
                distance[v] = candidate;
                parent[v] = u;
                parent_weight[v] = arc_weight[k];
                if (!queued[v]) {
                    queue[(first + count) % (n + 1)] = v;
                    count++;
                    queued[v] = 1;
                }
            }
        }
        /* Without a negative cycle the queue empties; with one it never does, and the
         * parent graph then holds the cycle. Look for it after every n scans. */
        if (++since_check >= n) {
            since_check = 0;
            cycle = parent_cycle(n, parent, parent_weight, mark);
            if (cycle != 0) {
                break;
            }
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("LL", (long long)cycle, (long long)scans);
done:
    PyMem_Free(start);
    PyMem_Free(arc_head);
    PyMem_Free(arc_weight);
    PyMem_Free(parent);
    PyMem_Free(parent_weight);
    PyMem_Free(mark);
    PyMem_Free(queue);
    PyMem_Free(queued);
    if (out.obj) PyBuffer_Release(&out);
    PyBuffer_Release(&tails);
    PyBuffer_Release(&heads);
    PyBuffer_Release(&weights);
    return result;
}

static PyMethodDef methods[] = {
    {"digests", digests, METH_VARARGS,
     "digests(prefix, items, width) -> bytes: SHA-256 of prefix + each fixed-width item "
     "(trailing NULs dropped), 32 bytes each."},
    {"cheapest", cheapest, METH_VARARGS,
     "cheapest(...) -> None: assign-v1 costs of visits [start, stop), keeping the cheapest."},
    {"cheapest_mixed", cheapest_mixed, METH_VARARGS,
     "cheapest_mixed(...) -> None: assign-v2 costs of visits [start, stop) from their keys, "
     "keeping the cheapest."},
    {"shortest", shortest, METH_VARARGS,
     "shortest(n, tails, heads, weights, out_distance[, warm]) -> (negative cycle weight or "
     "0, passes): Bellman-Ford with a queue, from 0 everywhere or (warm) from out_distance."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "spotcheck.scheduler._native",
    "Native loops: SHA-256 for draw-v1 tickets and assign-v1 costs; assign-v2's mixed costs; "
    "shortest paths for the optimality proof.", -1, methods,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
