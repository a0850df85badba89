# SPDX-License-Identifier: Apache-2.0
# The default configuration tree, installed as $(sysconfdir)/outrig (Debian: /etc/outrig, conffiles).
outrigconfdir = $(sysconfdir)/outrig
outrigcomponentsdir = $(outrigconfdir)/components
dist_outrigconf_DATA = conf/config.yaml conf/outrigd.env
dist_outrigcomponents_DATA = conf/components/statestore.yaml conf/components/pubsub.yaml
# A template unit's per-app env file (outrigd@APPID.service reads /etc/outrig/APPID.env).
outrigexamplesdir = $(docdir)/examples
dist_outrigexamples_DATA = conf/app.env.example
