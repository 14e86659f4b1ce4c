/*
 * wsframe._speedups: the optional C accelerator for RFC 6455 masking (section 5.3).
 *
 * apply_mask(data, mask) returns new bytes holding `data` XOR `mask` repeated, exactly
 * like wsframe._mask.apply_mask_python. `data` is any object exporting a buffer (bytes,
 * bytearray, memoryview, array, mmap, ...); a non-contiguous buffer (memoryview(b)[::2])
 * is copied into the result first and masked there, so both paths agree on it too.
 * `mask` is any buffer of exactly 4 bytes.
 *
 * The loop XORs 16 bytes at a time with SSE2 where the compiler targets it (always on
 * x86-64), then 8 bytes at a time with a 64-bit repeated key, then the tail byte by
 * byte. 16 and 8 are multiples of 4, so the key phase is 0 at the start of every step.
 * Loads and stores use memcpy / unaligned intrinsics: no alignment or aliasing UB.
 *
 * The module keeps no state and touches no Python object while XORing: it declares
 * multi-phase init, per-interpreter GIL support (3.12+) and free-threading support
 * (Py_mod_gil, 3.13+), and releases the GIL for large payloads.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) || defined(_M_X64) || defined(_M_AMD64) || \
    (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#define WSFRAME_HAVE_SSE2 1
#include <emmintrin.h>
#endif

/* Payloads larger than this are masked with the GIL released. Below it, the cost of
   releasing and taking back the GIL is a noticeable part of the call. It is safe:
   the source buffer stays exported (so it cannot be resized or freed) until
   PyBuffer_Release, and the destination is a bytes object no one else can see yet. */
#define WSFRAME_NOGIL_THRESHOLD (64 * 1024)

/* XOR `len` bytes of `src` with the repeated 4-byte `mask` into `dst`. `src` and
   `dst` may be the same pointer (every step reads a block before writing it). */
static void
xor_mask(const unsigned char *src, unsigned char *dst, Py_ssize_t len,
         const unsigned char mask[4])
{
    Py_ssize_t i = 0;
    unsigned char key[16];
    uint64_t key64;

    for (int k = 0; k < 16; k++) {
        key[k] = mask[k & 3];
    }
    memcpy(&key64, key, 8); /* byte order independent: same bytes, same layout */

#ifdef WSFRAME_HAVE_SSE2
    {
        const __m128i key128 = _mm_loadu_si128((const __m128i *)key);
        for (; i + 16 <= len; i += 16) {
            __m128i block = _mm_loadu_si128((const __m128i *)(src + i));
            _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(block, key128));
        }
    }
#endif
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, src + i, 8);
        word ^= key64;
        memcpy(dst + i, &word, 8);
    }
    for (; i < len; i++) {
        dst[i] = src[i] ^ mask[i & 3];
    }
}

/* Bind (data, mask) from a vectorcall: positional or keyword, both required, matching
   the signature of apply_mask_python. */
static int
parse_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
           PyObject **data_obj, PyObject **mask_obj)
{
    static const char *const names[2] = {"data", "mask"};
    PyObject *bound[2] = {NULL, NULL};
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);

    if (nargs > 2) {
        PyErr_Format(PyExc_TypeError,
                     "apply_mask() takes 2 positional arguments but %zd were given",
                     nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        bound[i] = args[i];
    }
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, k);
        int j = 0;
        while (j < 2 && PyUnicode_CompareWithASCIIString(name, names[j]) != 0) {
            j++;
        }
        if (j == 2) {
            PyErr_Format(PyExc_TypeError,
                         "apply_mask() got an unexpected keyword argument '%U'", name);
            return -1;
        }
        if (bound[j] != NULL) {
            PyErr_Format(PyExc_TypeError,
                         "apply_mask() got multiple values for argument '%s'",
                         names[j]);
            return -1;
        }
        bound[j] = args[nargs + k];
    }
    for (int j = 0; j < 2; j++) {
        if (bound[j] == NULL) {
            PyErr_Format(PyExc_TypeError,
                         "apply_mask() missing required argument '%s'", names[j]);
            return -1;
        }
    }
    *data_obj = bound[0];
    *mask_obj = bound[1];
    return 0;
}

PyDoc_STRVAR(apply_mask_doc,
"apply_mask($module, /, data, mask)\n"
"--\n"
"\n"
"XOR `data` with the 4-byte `mask` repeated; masking twice gives `data` back.\n"
"\n"
"Args:\n"
"    data: the payload (any bytes-like object; a non-contiguous buffer is copied).\n"
"    mask: the 4-byte masking key (any bytes-like object).\n"
"\n"
"Returns:\n"
"    The masked (or unmasked) payload as new bytes.\n"
"\n"
"Raises:\n"
"    ValueError: `mask` is not 4 bytes long.\n"
"    TypeError: `data` or `mask` is not a bytes-like object.\n");

static PyObject *
apply_mask(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    PyObject *data_obj, *mask_obj, *result;
    Py_buffer mask_view, data_view;
    unsigned char mask[4];
    const unsigned char *src;
    unsigned char *dst;

    (void)module;
    if (parse_args(args, nargs, kwnames, &data_obj, &mask_obj) < 0) {
        return NULL;
    }

    /* The mask first, as apply_mask_python checks it first. */
    if (PyObject_GetBuffer(mask_obj, &mask_view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (mask_view.len != 4) {
        PyBuffer_Release(&mask_view);
        PyErr_SetString(PyExc_ValueError, "mask must contain 4 bytes");
        return NULL;
    }
    memcpy(mask, mask_view.buf, 4);
    PyBuffer_Release(&mask_view);

    /* PyBUF_FULL_RO accepts every exporter, contiguous or not; len is in bytes. */
    if (PyObject_GetBuffer(data_obj, &data_view, PyBUF_FULL_RO) < 0) {
        return NULL;
    }
    result = PyBytes_FromStringAndSize(NULL, data_view.len);
    if (result == NULL) {
        PyBuffer_Release(&data_view);
        return NULL;
    }
    dst = (unsigned char *)PyBytes_AS_STRING(result);
    if (PyBuffer_IsContiguous(&data_view, 'C')) {
        src = (const unsigned char *)data_view.buf;
    }
    else {
        if (PyBuffer_ToContiguous(dst, &data_view, data_view.len, 'C') < 0) {
            PyBuffer_Release(&data_view);
            Py_DECREF(result);
            return NULL;
        }
        src = dst; /* mask the copy in place */
    }

    if (data_view.len > WSFRAME_NOGIL_THRESHOLD) {
        Py_BEGIN_ALLOW_THREADS
        xor_mask(src, dst, data_view.len, mask);
        Py_END_ALLOW_THREADS
    }
    else {
        xor_mask(src, dst, data_view.len, mask);
    }

    PyBuffer_Release(&data_view);
    return result;
}

static PyMethodDef speedups_methods[] = {
    {"apply_mask", (PyCFunction)(void (*)(void))apply_mask,
     METH_FASTCALL | METH_KEYWORDS, apply_mask_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot speedups_slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    /* Harmless on the default build; on a free-threaded (Py_GIL_DISABLED) build it
       keeps the GIL off when the module is imported. */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

PyDoc_STRVAR(speedups_doc,
"C accelerator for RFC 6455 masking, selected by wsframe._mask when importable.");

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "wsframe._speedups",
    .m_doc = speedups_doc,
    .m_size = 0,
    .m_methods = speedups_methods,
    .m_slots = speedups_slots,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
