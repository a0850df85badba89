# SPDX-License-Identifier: Apache-2.0
# The plugin SDK: installed headers and pkg-config file.
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
EXTRA_DIST += sdk/README.md
