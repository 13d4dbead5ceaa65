# SPDX-License-Identifier: Apache-2.0
# R's forecast (snaive, ets, auto.arima, tbats) and prophet on wide CSV rows, for the
# forecast benchmark (tests/bench/forecast/bench.sh). Debian: r-base-core r-cran-forecast
# r-cran-prophet.
#
#   Rscript r_methods.R TRAIN.csv IDS H METHODS OUT.csv
#     IDS      comma list of series ids (first field of the rows) to run
#     METHODS  comma list of snaive,ets,arima,tbats,prophet
# Writes id,method,h,mean,lo95,hi95,seconds (CPU seconds of fit + forecast, per series).
suppressMessages({
  library(forecast)
  have_prophet <- requireNamespace("prophet", quietly = TRUE)
})
args <- commandArgs(trailingOnly = TRUE)
train <- args[1]; ids <- strsplit(args[2], ",")[[1]]; h <- as.integer(args[3])
methods <- strsplit(args[4], ",")[[1]]; out <- args[5]

rows <- readLines(train)
rows <- rows[!grepl("^\"?V1\"?,", rows)]
series <- list()
for (r in rows) {
  f <- gsub('"', "", strsplit(r, ",")[[1]])
  if (f[1] %in% ids) {
    v <- suppressWarnings(as.numeric(f[-1]))
    series[[f[1]]] <- v[!is.na(v)]
  }
}

cpu <- function() { t <- proc.time(); t[["user.self"]] + t[["sys.self"]] }
res <- list()
for (id in ids) {
  x <- series[[id]]
  if (is.null(x)) next
  y <- ts(x, frequency = 24)
  for (m in methods) {
    t0 <- cpu()
    fc <- tryCatch({
      if (m == "snaive") {
        f <- snaive(y, h = h, level = 95); list(f$mean, f$lower[, 1], f$upper[, 1])
      } else if (m == "ets") {
        f <- forecast(ets(y), h = h, level = 95); list(f$mean, f$lower[, 1], f$upper[, 1])
      } else if (m == "arima") {
        f <- forecast(auto.arima(y), h = h, level = 95)
        list(f$mean, f$lower[, 1], f$upper[, 1])
      } else if (m == "tbats") {
        per <- if (length(x) >= 2 * 168) c(24, 168) else 24
        f <- forecast(tbats(msts(x, seasonal.periods = per)), h = h, level = 95)
        list(f$mean, f$lower[, 1], f$upper[, 1])
      } else if (m == "prophet" && have_prophet) {
        ds <- as.POSIXct("2020-01-06", tz = "UTC") + 3600 * (seq_along(x) - 1)
        mod <- suppressMessages(prophet::prophet(data.frame(ds = ds, y = x),
          daily.seasonality = TRUE, weekly.seasonality = length(x) >= 2 * 168,
          yearly.seasonality = FALSE, interval.width = 0.95))
        fut <- prophet::make_future_dataframe(mod, periods = h, freq = 3600,
                                              include_history = FALSE)
        p <- predict(mod, fut)
        list(p$yhat, p$yhat_lower, p$yhat_upper)
      } else NULL
    }, error = function(e) { message(id, " ", m, ": ", conditionMessage(e)); NULL })
    secs <- cpu() - t0
    if (is.null(fc)) next
    res[[length(res) + 1]] <- data.frame(id = id, method = m, h = 1:h,
      mean = as.numeric(fc[[1]]), lo95 = as.numeric(fc[[2]]), hi95 = as.numeric(fc[[3]]),
      seconds = secs)
    message(sprintf("%s %s %.1f s", id, m, secs))
  }
}
write.csv(do.call(rbind, res), out, row.names = FALSE)
