"""Print cgo flags for embedding this interpreter: CFLAGS word, then LDFLAGS.

Uses sysconfig instead of python3-config so that any CPython (Debian's,
pyenv's, a custom build) works, and adds an rpath so bin/carafe finds a
libpython that lives outside the loader's default path.
"""
import sys
import sysconfig

inc = sysconfig.get_paths()["include"]
libdir = sysconfig.get_config_var("LIBDIR")
ver = sysconfig.get_config_var("LDVERSION") or sysconfig.get_config_var("VERSION")
libs = sysconfig.get_config_var("LIBS") or ""
sys.stdout.write("-I%s -L%s -lpython%s %s -lm -Wl,-rpath,%s\n" % (inc, libdir, ver, libs, libdir))
