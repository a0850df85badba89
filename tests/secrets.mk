# SPDX-License-Identifier: Apache-2.0
# (in progress)
