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
 * Assembler(size) receives one large frame's payload in pieces straight into the bytes
 * object that becomes the message: each write() unmasks (or copies) a received chunk
 * into place, so a message costs one copy instead of "unmask each chunk, then join".
 * The bytes object is private to the Assembler until take() hands it over complete, so
 * nobody can observe it while it is being filled.
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

/* ------------------------------------------------------------------ Assembler */

typedef struct {
    PyObject_HEAD
    PyObject *data;       /* bytes of `size` bytes, filled up to `filled`; NULL once taken */
    Py_ssize_t size;
    Py_ssize_t filled;
    Py_ssize_t exports;   /* buffers exported over the filled part (memoryview(assembler)) */
} AssemblerObject;

static PyObject *
assembler_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"size", NULL};
    Py_ssize_t size;
    AssemblerObject *self;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "n:Assembler", kwlist, &size)) {
        return NULL;
    }
    if (size < 0) {
        PyErr_Format(PyExc_ValueError, "size must be non-negative, not %zd", size);
        return NULL;
    }
    self = (AssemblerObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->data = PyBytes_FromStringAndSize(NULL, size);
    if (self->data == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->size = size;
    self->filled = 0;
    self->exports = 0;
    return (PyObject *)self;
}

static void
assembler_dealloc(AssemblerObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_CLEAR(self->data);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

PyDoc_STRVAR(assembler_write_doc,
"write($self, data, mask=None, /)\n"
"--\n"
"\n"
"Append `data`, XORed with the 4-byte `mask` when one is given.\n"
"\n"
"The key's phase is the number of bytes written so far: the Assembler holds one\n"
"frame's payload from its first byte, and its chunks may split the key anywhere.\n"
"\n"
"Raises:\n"
"    ValueError: `data` does not fit in what is left, `mask` is not 4 bytes long, or\n"
"        the message was already taken.\n"
"    BufferError: a memoryview of the Assembler is still alive.\n");

static PyObject *
assembler_write(AssemblerObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer src, key;
    unsigned char mask[4], rotated[4];
    unsigned char *dst;
    int masked = 0;

    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "write() takes 1 or 2 arguments (%zd given)", nargs);
        return NULL;
    }
    if (self->data == NULL) {
        PyErr_SetString(PyExc_ValueError, "the message was already taken");
        return NULL;
    }
    if (self->exports > 0) {
        PyErr_SetString(PyExc_BufferError, "a memoryview of the assembler is still alive");
        return NULL;
    }
    if (nargs == 2 && args[1] != Py_None) {
        if (PyObject_GetBuffer(args[1], &key, PyBUF_SIMPLE) < 0) {
            return NULL;
        }
        if (key.len != 4) {
            PyBuffer_Release(&key);
            PyErr_SetString(PyExc_ValueError, "mask must contain 4 bytes");
            return NULL;
        }
        memcpy(mask, key.buf, 4);
        PyBuffer_Release(&key);
        masked = 1;
    }
    if (PyObject_GetBuffer(args[0], &src, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (src.len > self->size - self->filled) {
        PyErr_Format(PyExc_ValueError,
                     "%zd bytes do not fit: %zd of %zd are left",
                     src.len, self->size - self->filled, self->size);
        PyBuffer_Release(&src);
        return NULL;
    }
    dst = (unsigned char *)PyBytes_AS_STRING(self->data) + self->filled;
    if (masked) {
        Py_ssize_t phase = self->filled & 3;
        for (int k = 0; k < 4; k++) {
            rotated[k] = mask[(phase + k) & 3];
        }
    }
    if (src.len > WSFRAME_NOGIL_THRESHOLD) {
        Py_BEGIN_ALLOW_THREADS
        if (masked) {
            xor_mask((const unsigned char *)src.buf, dst, src.len, rotated);
        }
        else {
            memcpy(dst, src.buf, (size_t)src.len);
        }
        Py_END_ALLOW_THREADS
    }
    else if (masked) {
        xor_mask((const unsigned char *)src.buf, dst, src.len, rotated);
    }
    else {
        memcpy(dst, src.buf, (size_t)src.len);
    }
    self->filled += src.len;
    PyBuffer_Release(&src);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(assembler_take_doc,
"take($self, /)\n"
"--\n"
"\n"
"Return the complete message as bytes; the Assembler is empty afterwards.\n"
"\n"
"Raises:\n"
"    ValueError: fewer than `size` bytes were written, or the message was already taken.\n"
"    BufferError: a memoryview of the Assembler is still alive.\n");

static PyObject *
assembler_take(AssemblerObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *data = self->data;

    if (data == NULL) {
        PyErr_SetString(PyExc_ValueError, "the message was already taken");
        return NULL;
    }
    if (self->filled != self->size) {
        PyErr_Format(PyExc_ValueError, "the message is incomplete: %zd of %zd bytes",
                     self->filled, self->size);
        return NULL;
    }
    if (self->exports > 0) {
        PyErr_SetString(PyExc_BufferError, "a memoryview of the assembler is still alive");
        return NULL;
    }
    self->data = NULL;
    return data; /* the reference moves to the caller */
}

PyDoc_STRVAR(assembler_resize_doc,
"resize($self, size, /)\n"
"--\n"
"\n"
"Change the size of the message (never below what was written): a message of unknown\n"
"size grows as its fragments arrive, and shrinks to what it holds before take().\n"
"\n"
"Raises:\n"
"    ValueError: `size` is smaller than what was written, or the message was taken.\n"
"    BufferError: a memoryview of the Assembler is still alive.\n");

static PyObject *
assembler_resize(AssemblerObject *self, PyObject *arg)
{
    Py_ssize_t size = PyLong_AsSsize_t(arg);

    if (size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (self->data == NULL) {
        PyErr_SetString(PyExc_ValueError, "the message was already taken");
        return NULL;
    }
    if (size < self->filled) {
        PyErr_Format(PyExc_ValueError, "size %zd is below the %zd bytes written", size,
                     self->filled);
        return NULL;
    }
    if (self->exports > 0) {
        PyErr_SetString(PyExc_BufferError, "a memoryview of the assembler is still alive");
        return NULL;
    }
    if (size != self->size) {
        /* The bytes object is private (one reference, never hashed): resizing it in
           place is what _PyBytes_Resize is for. On failure it frees the object and
           sets ours to NULL: the Assembler then refuses everything, as after take(). */
        if (_PyBytes_Resize(&self->data, size) < 0) {
            self->size = 0;
            self->filled = 0;
            return NULL;
        }
        self->size = size;
    }
    Py_RETURN_NONE;
}

static PyObject *
assembler_get_size(AssemblerObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->size);
}

static PyObject *
assembler_get_filled(AssemblerObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->filled);
}

/* The buffer protocol exports the filled part, read-only: a text message is validated
   as it arrives without copying it out. write() and take() refuse while it is exported. */
static int
assembler_getbuffer(AssemblerObject *self, Py_buffer *view, int flags)
{
    if (self->data == NULL) {
        PyErr_SetString(PyExc_BufferError, "the message was already taken");
        view->obj = NULL;
        return -1;
    }
    if (PyBuffer_FillInfo(view, (PyObject *)self, PyBytes_AS_STRING(self->data),
                          self->filled, 1, flags) < 0) {
        return -1;
    }
    self->exports++;
    return 0;
}

static void
assembler_releasebuffer(AssemblerObject *self, Py_buffer *Py_UNUSED(view))
{
    self->exports--;
}

static PyMethodDef assembler_methods[] = {
    {"write", (PyCFunction)(void (*)(void))assembler_write, METH_FASTCALL, assembler_write_doc},
    {"take", (PyCFunction)assembler_take, METH_NOARGS, assembler_take_doc},
    {"resize", (PyCFunction)assembler_resize, METH_O, assembler_resize_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef assembler_getset[] = {
    {"size", (getter)assembler_get_size, NULL, "Bytes the message will hold.", NULL},
    {"filled", (getter)assembler_get_filled, NULL, "Bytes written so far.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(assembler_doc,
"Assembler(size)\n"
"--\n"
"\n"
"One frame's payload of `size` bytes, received in pieces straight into the bytes\n"
"object that take() returns: one copy per message instead of two.\n");

static PyType_Slot assembler_slots[] = {
    {Py_tp_doc, (void *)assembler_doc},
    {Py_tp_new, assembler_new},
    {Py_tp_dealloc, assembler_dealloc},
    {Py_tp_methods, assembler_methods},
    {Py_tp_getset, assembler_getset},
    {Py_bf_getbuffer, assembler_getbuffer},
    {Py_bf_releasebuffer, assembler_releasebuffer},
    {0, NULL},
};

static PyType_Spec assembler_spec = {
    .name = "wsframe._speedups.Assembler",
    .basicsize = sizeof(AssemblerObject),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = assembler_slots,
};

static int
speedups_exec(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &assembler_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    if (PyModule_AddObjectRef(module, "Assembler", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    Py_DECREF(type);
    return 0;
}

static PyMethodDef speedups_methods[] = {
    {"apply_mask", (PyCFunction)(void (*)(void))apply_mask,
     METH_FASTCALL | METH_KEYWORDS, apply_mask_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, speedups_exec},
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
