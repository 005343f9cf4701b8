/* A small, bounded reader of ONNX model files: the graph's inputs and outputs (name, element type,
 * shape with dim_value or dim_param), initializers left out of the inputs, the IR version, the
 * default opset and the producer. Only the protobuf wire format of the fields it needs is read;
 * everything else is skipped by its declared length, and every length is checked against what is
 * left, so a truncated or corrupt file is a clean error, never a read past the end.
 *
 *   ModelProto  1 ir_version  2 producer_name  7 graph  8 opset_import (1 domain, 2 version)
 *   GraphProto  5 initializer (TensorProto: 8 name)  11 input  12 output  (ValueInfoProto)
 *   ValueInfoProto 1 name  2 type: TypeProto 1 tensor_type: 1 elem_type  2 shape: 1 dim:
 *                                                         1 dim_value  2 dim_param */
#ifndef AC_ONNX_H
#define AC_ONNX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ac.h"

#define ONNX_MAX_IO 32
#define ONNX_MAX_RANK 8

typedef struct {
	char name[64];
	int elem;             /* TensorProto.DataType: 1 float, 7 int64, 10 float16, ...; 0 not a tensor */
	bool has_shape;       /* false: the file declares no shape (any rank) */
	int rank;
	int64_t dim[ONNX_MAX_RANK];        /* -1 where the dim is symbolic or unknown */
	char param[ONNX_MAX_RANK][48];     /* its dim_param, "" when unnamed */
} onnx_value;

typedef struct {
	int64_t ir_version;
	int64_t opset;        /* of the default domain ("" or "ai.onnx"); 0 if not declared */
	char producer[64];
	onnx_value in[ONNX_MAX_IO];
	int n_in;             /* graph inputs that are not initializers */
	onnx_value out[ONNX_MAX_IO];
	int n_out;
} onnx_info;

/* Parses a whole model held in memory. */
int onnx_read(const unsigned char *buf, size_t len, onnx_info *info, ac_err *err);
/* Maps the file and parses it; errors name the file. */
int onnx_read_file(const char *path, onnx_info *info, ac_err *err);

/* "float32", "int64", ...: the catalog's dtype names; "double", "string", ... for the rest;
 * "type N" for numbers it does not know. */
const char *onnx_elem_name(int elem);

#endif
