# SPDX-License-Identifier: Apache-2.0
# check_api_pubsub: the publish API (single and bulk) and its errors.
