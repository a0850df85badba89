# SPDX-License-Identifier: Apache-2.0
# check_mqtt3_plugin: the pubsub.mqtt3 plugin alone, against a real mosquitto.
