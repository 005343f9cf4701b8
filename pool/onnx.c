#include "onnx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A span of the buffer being read; base is the buffer's start, for offsets in messages. */
typedef struct {
	const unsigned char *p, *end, *base;
} pb;

typedef struct {
	const unsigned char *p;
	size_t n;
} span;

static int bad(ac_err *err, const pb *c, const char *what)
{
	return ac_errf(err, AC_EINVAL, "not an ONNX model: %s at byte %zu", what, (size_t)(c->p - c->base));
}

static int varint(pb *c, uint64_t *v, ac_err *err)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 70; shift += 7) {
		if (c->p >= c->end)
			return bad(err, c, "truncated varint");
		unsigned char b = *c->p++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return bad(err, c, "varint longer than 10 bytes");
}

/* The next field: its number, and either its varint value (wire type 0) or its bytes (type 2);
 * fixed32/fixed64 are skipped. Returns 1 at the end of the span, 0 for a field, < 0 if corrupt. */
static int field(pb *c, int *num, uint64_t *v, pb *sub, ac_err *err)
{
	if (c->p >= c->end)
		return 1;
	uint64_t key, len;
	int rc = varint(c, &key, err);
	if (rc)
		return rc;
	*num = (int)(key >> 3);
	if (key >> 3 == 0 || key >> 3 > 536870911)
		return bad(err, c, "field number 0 or too large");
	*v = 0;
	sub->p = sub->end = c->p;
	sub->base = c->base;
	switch (key & 7) {
	case 0:
		return varint(c, v, err);
	case 1:
	case 5: {
		size_t k = (key & 7) == 1 ? 8 : 4;
		if ((size_t)(c->end - c->p) < k)
			return bad(err, c, "truncated fixed-size field");
		c->p += k;
		return 0;
	}
	case 2:
		if ((rc = varint(c, &len, err)))
			return rc;
		if (len > (uint64_t)(c->end - c->p))
			return bad(err, c, "a length past the end of the data (truncated file?)");
		sub->p = c->p;
		sub->end = c->p + len;
		c->p += len;
		return 0;
	default:
		return bad(err, c, "unsupported wire type");
	}
}

static void copy_str(char *dst, size_t cap, const pb *s)
{
	size_t n = (size_t)(s->end - s->p);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s->p, n);
	dst[n] = '\0';
}

/* TensorShapeProto.Dimension */
static int parse_dim(pb d, onnx_value *v, ac_err *err)
{
	int num, rc, k = v->rank;
	uint64_t x;
	pb sub;
	v->dim[k] = -1;
	v->param[k][0] = '\0';
	while (!(rc = field(&d, &num, &x, &sub, err))) {
		if (num == 1)
			v->dim[k] = (int64_t)x < 0 ? -1 : (int64_t)x;
		else if (num == 2)
			copy_str(v->param[k], sizeof v->param[k], &sub);
	}
	return rc < 0 ? rc : 0;
}

/* TypeProto.Tensor */
static int parse_tensor_type(pb t, onnx_value *v, ac_err *err)
{
	int num, rc;
	uint64_t x;
	pb sub, s2;
	while (!(rc = field(&t, &num, &x, &sub, err))) {
		if (num == 1) {
			v->elem = (int)(x & 0xffff);
		} else if (num == 2) {
			v->has_shape = true;
			v->rank = 0;
			int n2;
			while (!(rc = field(&sub, &n2, &x, &s2, err))) {
				if (n2 != 1)
					continue;
				if (v->rank == ONNX_MAX_RANK)
					return ac_errf(err, AC_EINVAL, "input or output '%s' has more than %d dimensions", v->name,
						       ONNX_MAX_RANK);
				if ((rc = parse_dim(s2, v, err)))
					return rc;
				v->rank++;
			}
			if (rc < 0)
				return rc;
		}
	}
	return rc < 0 ? rc : 0;
}

/* ValueInfoProto: name, and the tensor type when it is one (elem 0 otherwise). */
static int parse_value(pb vi, onnx_value *v, ac_err *err)
{
	int num, rc;
	uint64_t x;
	pb sub, s2;
	memset(v, 0, sizeof *v);
	while (!(rc = field(&vi, &num, &x, &sub, err))) {
		if (num == 1) {
			if ((size_t)(sub.end - sub.p) >= sizeof v->name)
				return ac_errf(err, AC_EINVAL, "a tensor name is longer than %zu bytes", sizeof v->name - 1);
			copy_str(v->name, sizeof v->name, &sub);
		} else if (num == 2) {
			int n2;
			while (!(rc = field(&sub, &n2, &x, &s2, err)))
				if (n2 == 1 && (rc = parse_tensor_type(s2, v, err)))
					return rc;
			if (rc < 0)
				return rc;
		}
	}
	return rc < 0 ? rc : 0;
}

/* The name field of a ValueInfoProto or TensorProto (field `which`), without copying. */
static int name_of(pb m, int which, span *out, ac_err *err)
{
	int num, rc;
	uint64_t x;
	pb sub;
	out->p = NULL;
	out->n = 0;
	while (!(rc = field(&m, &num, &x, &sub, err)))
		if (num == which) {
			out->p = sub.p;
			out->n = (size_t)(sub.end - sub.p);
		}
	return rc < 0 ? rc : 0;
}

static int push(span **arr, size_t *n, size_t *cap, pb s, ac_err *err)
{
	if (ac_reserve((void **)arr, cap, *n + 1, sizeof **arr))
		return ac_errf(err, AC_ENOMEM, "out of memory");
	(*arr)[(*n)++] = (span){ s.p, (size_t)(s.end - s.p) };
	return 0;
}

static int parse_graph(pb g, onnx_info *info, ac_err *err)
{
	span *ins = NULL, *inits = NULL;
	size_t n_ins = 0, cap_ins = 0, n_inits = 0, cap_inits = 0;
	int num, rc;
	uint64_t x;
	pb sub;
	while (!(rc = field(&g, &num, &x, &sub, err))) {
		if (num == 11) {
			rc = push(&ins, &n_ins, &cap_ins, sub, err);
		} else if (num == 5) {
			span nm;
			if (!(rc = name_of(sub, 8, &nm, err)))
				rc = push(&inits, &n_inits, &cap_inits, (pb){ nm.p, nm.p + nm.n, g.base }, err);
		} else if (num == 12) {
			if (info->n_out == ONNX_MAX_IO)
				rc = ac_errf(err, AC_EINVAL, "the graph has more than %d outputs", ONNX_MAX_IO);
			else
				rc = parse_value(sub, &info->out[info->n_out++], err);
		}
		if (rc)
			break;
	}
	/* Before IR 4 an initializer was also listed as a graph input: those are weights, not inputs. */
	for (size_t i = 0; rc >= 0 && i < n_ins; i++) {
		pb vi = { ins[i].p, ins[i].p + ins[i].n, g.base };
		span nm;
		if ((rc = name_of(vi, 1, &nm, err)))
			break;
		bool init = false;
		for (size_t k = 0; k < n_inits && !init; k++)
			init = inits[k].n == nm.n && (nm.n == 0 || !memcmp(inits[k].p, nm.p, nm.n));
		if (init)
			continue;
		if (info->n_in == ONNX_MAX_IO) {
			rc = ac_errf(err, AC_EINVAL, "the graph has more than %d inputs", ONNX_MAX_IO);
			break;
		}
		rc = parse_value(vi, &info->in[info->n_in++], err);
	}
	free(ins);
	free(inits);
	return rc < 0 ? rc : 0;
}

int onnx_read(const unsigned char *buf, size_t len, onnx_info *info, ac_err *err)
{
	memset(info, 0, sizeof *info);
	pb c = { buf, buf + len, buf }, sub, graph = { NULL, NULL, buf };
	int num, rc;
	uint64_t x;
	bool have_graph = false;
	while (!(rc = field(&c, &num, &x, &sub, err))) {
		if (num == 1) {
			info->ir_version = (int64_t)x;
		} else if (num == 2) {
			copy_str(info->producer, sizeof info->producer, &sub);
		} else if (num == 7) {
			graph = sub;
			have_graph = true;
		} else if (num == 8) {
			char domain[32] = "";
			int64_t version = 0;
			pb s2;
			int n2;
			while (!(rc = field(&sub, &n2, &x, &s2, err))) {
				if (n2 == 1)
					copy_str(domain, sizeof domain, &s2);
				else if (n2 == 2)
					version = (int64_t)x;
			}
			if (rc < 0)
				return rc;
			if (!domain[0] || !strcmp(domain, "ai.onnx"))
				info->opset = version;
		}
	}
	if (rc < 0)
		return rc;
	if (!have_graph || info->ir_version < 1)
		return ac_errf(err, AC_EINVAL, "not an ONNX model: %s", !have_graph ? "no graph" : "no ir_version");
	if ((rc = parse_graph(graph, info, err)))
		return rc;
	if (info->n_in == 0 || info->n_out == 0)
		return ac_errf(err, AC_EINVAL, "the graph declares %s", info->n_in ? "no outputs" : "no inputs");
	return 0;
}

int onnx_read_file(const char *path, onnx_info *info, ac_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ac_errf(err, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) || st.st_size <= 0) {
		close(fd);
		return ac_errf(err, AC_EINVAL, "%s: not an ONNX model: empty", path);
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (map == MAP_FAILED)
		return ac_errf(err, -e, "%s: %s", path, strerror(e));
	ac_err inner = { 0 };
	int rc = onnx_read(map, (size_t)st.st_size, info, &inner);
	munmap(map, (size_t)st.st_size);
	if (rc)
		return ac_errf(err, rc, "%s: %s", path, inner.msg);
	return 0;
}

const char *onnx_elem_name(int elem)
{
	static const char *const names[] = {
		[1] = "float32", [2] = "uint8", [3] = "int8", [4] = "uint16", [5] = "int16", [6] = "int32",
		[7] = "int64", [8] = "string", [9] = "bool", [10] = "float16", [11] = "double", [12] = "uint32",
		[13] = "uint64", [14] = "complex64", [15] = "complex128", [16] = "bfloat16",
	};
	if (elem > 0 && (size_t)elem < sizeof names / sizeof names[0] && names[elem])
		return names[elem];
	return elem == 0 ? "not a tensor" : "an unknown type";
}
