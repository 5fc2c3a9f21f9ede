"""Print cgo flags for embedding this interpreter: CFLAGS word, then LDFLAGS.

Uses sysconfig instead of python3-config so that any CPython (Debian's,
pyenv's, a custom build) works.

libpython is linked statically where the interpreter ships its static
library (Debian's libpython3-dev and pyenv builds do), the way python3
itself is linked: calls inside the interpreter then go direct instead of
through the PLT and semantic interposition, which took ~20% off the CPU a
Flask request costs (measured: 174 vs 212 us). The executable exports its
symbols (--export-dynamic) so that extension modules resolve them there.
Otherwise, or with CARAFE_PYLINK=shared, libpython.so is linked with an
rpath, so bin/carafe finds a libpython that lives outside the loader's
default path.
"""
import os
import sys
import sysconfig


def var(name):
    return sysconfig.get_config_var(name) or ""


inc = sysconfig.get_paths()["include"]
libdir = var("LIBDIR")
ver = var("LDVERSION") or var("VERSION")
static = os.path.join(var("LIBPL"), var("LIBRARY") or "-")
# Objects of the archive nothing in carafe calls are left out of the link,
# though extension modules in lib-dynload need them: 3.13's interpconfig.o
# (_interpreters and _testinternalcapi failed to import, "undefined
# symbol: _PyInterpreterConfig_UpdateFromDict"). A reference to one of
# its functions brings each in (--whole-archive fails: cgo links twice).
orphans = ["_PyInterpreterConfig_InitFromDict"] if sys.version_info >= (3, 13) else []
if os.environ.get("CARAFE_PYLINK", "static") != "shared" and os.path.isfile(static):
    libs = " ".join(["-Wl,-u," + sym for sym in orphans] +
                    [static, var("MODLIBS"), var("LIBS"), var("SYSLIBS"), "-lm -Wl,--export-dynamic"])
else:
    libs = "-L%s -lpython%s %s -lm -Wl,-rpath,%s" % (libdir, ver, var("LIBS"), libdir)
sys.stdout.write("-I%s %s\n" % (inc, " ".join(dict.fromkeys(libs.split()))))
