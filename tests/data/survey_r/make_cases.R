# Extra parity cases for pxlib.survey, produced with Debian's r-cran-survey.
# Run from this folder:  Rscript make_cases.R
# Writes estimates.csv (case, stat, est, se, lo, hi) and weights_<case>.csv (snum, w).
suppressMessages(library(survey))
data(api)
options(digits = 15)
N <- nrow(apipop)
pop_stype <- table(apipop$stype)
pop_sw <- table(apipop$sch.wide)
pop_ci <- table(apipop$comp.imp)
totals <- c(`(Intercept)` = N, stypeH = pop_stype[["H"]], stypeM = pop_stype[["M"]],
            sch.wideYes = pop_sw[["Yes"]], comp.impYes = pop_ci[["Yes"]])
apistrat$hi700 <- as.numeric(apistrat$api00 > 700)
apiclus1$hi700 <- as.numeric(apiclus1$api00 > 700)

d0 <- svydesign(id = ~1, weights = ~pw, data = apistrat)
designs <- list(
  calib_raking = calibrate(d0, ~stype + sch.wide + comp.imp, totals, calfun = "raking",
                           epsilon = 1e-12, maxit = 100),
  calib_logit = calibrate(d0, ~stype + sch.wide + comp.imp, totals, calfun = "logit",
                          bounds = c(0.66, 1.5), epsilon = 1e-12, maxit = 100),
  calib_linear_bounded = calibrate(d0, ~stype + sch.wide + comp.imp, totals,
                                   calfun = "linear", bounds = c(0.66, 1.5),
                                   epsilon = 1e-12, maxit = 100),
  poststrat_stype = postStratify(d0, ~stype,
                                 data.frame(stype = names(pop_stype),
                                            Freq = as.vector(pop_stype))),
  strat_fpc = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat),
  clus1_fpc = svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1),
  trim_upper = trimWeights(d0, upper = 40)
)

rows <- list()
add <- function(case, stat, est, se, lo = NA, hi = NA) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, stat = stat, est = as.numeric(est),
                                          se = as.numeric(se), lo = as.numeric(lo),
                                          hi = as.numeric(hi))
}
for (case in names(designs)) {
  d <- designs[[case]]
  m <- svymean(~api00, d)
  add(case, "mean_api00", coef(m), SE(m))
  t <- svytotal(~enroll, d, na.rm = TRUE)
  add(case, "total_enroll", coef(t), SE(t))
  r <- svyratio(~api.stu, ~enroll, d)
  add(case, "ratio_apistu_enroll", coef(r), SE(r))
  for (meth in c("logit", "likelihood", "beta", "asin", "mean", "xlogit")) {
    p <- svyciprop(~hi700, d, method = meth)
    ci <- confint(p)
    add(case, paste0("prop_hi700_", meth), coef(p), SE(p), ci[1], ci[2])
  }
  b <- svyby(~hi700, ~sch.wide, d, svymean)
  for (lev in rownames(b)) add(case, paste0("mean_hi700_by_schwide_", lev),
                               b[lev, "hi700"], b[lev, "se"])
  bb <- svyby(~hi700, ~stype, d, svyciprop, vartype = "ci", method = "beta")
  for (lev in rownames(bb)) add(case, paste0("prop_hi700_beta_by_stype_", lev),
                                bb[lev, "hi700"], NA, bb[lev, "ci_l"], bb[lev, "ci_u"])
  if (case != "clus1_fpc") {
    w <- data.frame(snum = d$variables$snum, w = weights(d))
    write.csv(w, paste0("weights_", case, ".csv"), row.names = FALSE)
  }
}
out <- do.call(rbind, rows)
write.csv(out, "estimates.csv", row.names = FALSE)
