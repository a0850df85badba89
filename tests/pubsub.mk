# SPDX-License-Identifier: Apache-2.0
# Pub/sub: the conformance suite (every pub/sub plugin, mosquitto for pubsub.mqtt3) and fault tests.
