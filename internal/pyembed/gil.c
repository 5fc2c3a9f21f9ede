/*
 * The GIL probe: where the interpreter keeps "is the GIL locked", so the
 * pool (pool.go) can tell calls that are running Python from calls that are
 * blocked with the GIL released, and wake another thread only for the
 * second kind (a thread woken while the GIL is busy only queues for it).
 *
 * These are CPython internals whose place changed between versions, so this
 * file alone builds with Py_BUILD_CORE and reads the interpreter's own
 * struct definitions; every other file uses only the public API. Where the
 * layout is unknown (a free-threaded build has no GIL to watch) the probe
 * says so and the pool falls back to timing calls.
 */
#define Py_BUILD_CORE 1
#include "bridge.h"

#if !defined(Py_GIL_DISABLED)
#if PY_VERSION_HEX >= 0x030C0000
#include "internal/pycore_interp.h"
#else
#include "internal/pycore_runtime.h"
#endif
#endif

const int *crf_gil_locked(void)
{
#if defined(Py_GIL_DISABLED) || PY_VERSION_HEX < 0x030A0000
	return NULL;
#else
#if PY_VERSION_HEX >= 0x030C0000
	struct _gil_runtime_state *gil = PyInterpreterState_Main()->ceval.gil;
#else
	struct _gil_runtime_state *gil = &_PyRuntime.ceval.gil;
#endif
	_Static_assert(sizeof(gil->locked) == sizeof(int), "the GIL's locked flag is an int");
	/* The caller holds the GIL: a flag that does not say so is not the
	 * flag (a layout this file misreads), and the pool goes by time. */
	if (*(volatile int *)&gil->locked != 1)
		return NULL;
	return (const int *)&gil->locked;
#endif
}
