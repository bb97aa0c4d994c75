// SPDX-License-Identifier: Apache-2.0
// The vendordata process itself (`cloudtimed --vendordata-process`, started and supervised by
// daemon/vendordata_process): reads its setup, drops privileges, bounds itself and serves
// until SIGTERM.
#pragma once

namespace cloudtime::daemon {

// Its main (descriptors 3: the listening socket, 4: the setup document, 5: the channel to
// cloudtimed). Its exit status: 0 when stopped by a signal.
int run_vendordata_process();

}  // namespace cloudtime::daemon
