# SPDX-License-Identifier: Apache-2.0
# The plugin SDK: installed headers, pkg-config file, and the guide, example plugin and fake host.
outrigincludedir = $(includedir)/outrig
outriginclude_HEADERS = \
	sdk/include/outrig/binding.h \
	sdk/include/outrig/config.h \
	sdk/include/outrig/host.h \
	sdk/include/outrig/log.h \
	sdk/include/outrig/metadata.h \
	sdk/include/outrig/nameresolution.h \
	sdk/include/outrig/plugin.h \
	sdk/include/outrig/pubsub.h \
	sdk/include/outrig/secretstore.h \
	sdk/include/outrig/state.h \
	sdk/include/outrig/status.h
pkgconfig_DATA = sdk/outrig-plugin.pc
CLEANFILES += sdk/outrig-plugin.pc

# $(datadir)/outrig/sdk: what a third party needs beside the headers (outrig-dev ships it too).
sdkdir = $(datadir)/outrig/sdk
dist_sdk_DATA = sdk/README.md
sdkexampledir = $(sdkdir)/example
dist_sdkexample_DATA = sdk/example/Makefile sdk/example/state_example.c sdk/example/test_state_example.c
sdktestingdir = $(sdkdir)/testing
dist_sdktesting_DATA = sdk/testing/outrig_fake_host.h
EXTRA_DIST += sdk/outrig-plugin.pc.in

# prefix is ${pcfiledir} plus one ".." per folder between prefix and pkgconfigdir; the other
# paths are written relative to ${prefix}. A pkgconfigdir outside prefix keeps absolute paths.
sdk/outrig-plugin.pc: $(srcdir)/sdk/outrig-plugin.pc.in $(srcdir)/sdk/include/outrig/plugin.h Makefile
	$(AM_V_GEN)$(MKDIR_P) sdk; \
	case '$(pkgconfigdir)' in \
	'$(prefix)'/*) pcprefix="\$${pcfiledir}/`echo '$(pkgconfigdir)' | sed -e 's|^$(prefix)/||' -e 's|[^/][^/]*|..|g'`" ;; \
	*) pcprefix='$(prefix)' ;; \
	esac; \
	rel() { case "$$1" in '$(prefix)') echo "\$${prefix}" ;; '$(prefix)'/*) echo "\$${prefix}$${1#'$(prefix)'}" ;; *) echo "$$1" ;; esac; }; \
	major=`sed -n 's/^#define OUTRIG_ABI_MAJOR \([0-9]*\).*/\1/p' $(srcdir)/sdk/include/outrig/plugin.h`; \
	minor=`sed -n 's/^#define OUTRIG_ABI_MINOR \([0-9]*\).*/\1/p' $(srcdir)/sdk/include/outrig/plugin.h`; \
	sed -e "s|%pcprefix%|$$pcprefix|" \
	    -e "s|%exec_prefix%|`rel '$(exec_prefix)'`|" \
	    -e "s|%libdir%|`rel '$(libdir)'`|" \
	    -e "s|%includedir%|`rel '$(includedir)'`|" \
	    -e "s|%datadir%|`rel '$(datadir)'`|" \
	    -e "s|%plugindir%|`rel '$(plugindir)'`|" \
	    -e "s|%abi_major%|$$major|" -e "s|%abi_minor%|$$minor|" \
	    -e "s|%PACKAGE_VERSION%|$(PACKAGE_VERSION)|" \
	    $(srcdir)/sdk/outrig-plugin.pc.in >$@.tmp && mv $@.tmp $@
