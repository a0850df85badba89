# SPDX-License-Identifier: Apache-2.0
# OUTRIG_PLUGIN(name, pkg-config modules, description): --enable-NAME/--disable-NAME for one
# plugin. Default: build it when its modules are found. --enable-NAME with modules missing is
# an error. Sets the automake conditional BUILD_<NAME> and <NAME>_CFLAGS/<NAME>_LIBS.
AC_DEFUN([OUTRIG_PLUGIN], [
	m4_pushdef([VAR], m4_translit(m4_toupper([$1]), [-.], [__]))
	AC_ARG_ENABLE([$1], AS_HELP_STRING([--enable-$1], [build the $3 plugin (default: when its dependency is found)]),
		[outrig_want=$enableval], [outrig_want=auto])
	outrig_build=no
	AS_IF([test "x$outrig_want" != xno], [
		m4_ifval([$2], [
			PKG_CHECK_MODULES(VAR, [$2], [outrig_build=yes], [
				AS_IF([test "x$outrig_want" = xyes],
					[AC_MSG_ERROR([--enable-$1 was given but its dependency is missing: $VAR[]_PKG_ERRORS])])
				AC_MSG_WARN([not building the $1 plugin: $2 not found])
			])
		], [outrig_build=yes])
	])
	AS_IF([test "x$outrig_build" = xyes], [OUTRIG_PLUGINS_ENABLED="$OUTRIG_PLUGINS_ENABLED $1"])
	AM_CONDITIONAL([BUILD_]VAR, [test "x$outrig_build" = xyes])
	m4_popdef([VAR])
])

# OUTRIG_PLUGIN_LIB(name, header, library, function, description): as OUTRIG_PLUGIN, for a
# dependency without a pkg-config file (paho-mqtt-c ships only CMake files): the plugin is
# built when header compiles and function links from -llibrary; <NAME>_LIBS is -llibrary.
AC_DEFUN([OUTRIG_PLUGIN_LIB], [
	m4_pushdef([VAR], m4_translit(m4_toupper([$1]), [-.], [__]))
	AC_ARG_ENABLE([$1], AS_HELP_STRING([--enable-$1], [build the $5 plugin (default: when its dependency is found)]),
		[outrig_want=$enableval], [outrig_want=auto])
	outrig_build=no
	AS_IF([test "x$outrig_want" != xno], [
		outrig_found=yes
		AC_CHECK_HEADER([$2], [], [outrig_found=no])
		AS_IF([test "x$outrig_found" = xyes], [AC_CHECK_LIB([$3], [$4], [:], [outrig_found=no], [-lpthread])])
		AS_IF([test "x$outrig_found" = xyes], [
			outrig_build=yes
			AC_SUBST(VAR[_CFLAGS], [""])
			AC_SUBST(VAR[_LIBS], ["-l$3"])
		], [
			AS_IF([test "x$outrig_want" = xyes],
				[AC_MSG_ERROR([--enable-$1 was given but $2 or lib$3 is missing; on Debian install the package that provides them])])
			AC_MSG_WARN([not building the $1 plugin: $2 or lib$3 not found])
		])
	])
	AS_IF([test "x$outrig_build" = xyes], [OUTRIG_PLUGINS_ENABLED="$OUTRIG_PLUGINS_ENABLED $1"])
	AM_CONDITIONAL([BUILD_]VAR, [test "x$outrig_build" = xyes])
	m4_popdef([VAR])
])
