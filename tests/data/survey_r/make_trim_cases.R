# Parity cases for trimming a calibrated or raked design (pxlib.survey Design.trim after
# rake / calibrate / poststratify), produced with Debian's r-cran-survey.
# Run from this folder:  Rscript make_trim_cases.R
# Writes estimates_trim.csv (case, stat, est, se, lo, hi) and weights_<case>.csv (snum, w).
# R's trimWeights() changes only the weights: the design keeps the calibration (postStrata)
# of the step before, so svyrecvar still takes residuals from that step's model.
suppressMessages(library(survey))
data(api)
options(digits = 15)
N <- nrow(apipop)
pop_stype <- table(apipop$stype)
pop_sw <- table(apipop$sch.wide)
pop_ci <- table(apipop$comp.imp)
totals <- c(`(Intercept)` = N, stypeH = pop_stype[["H"]], stypeM = pop_stype[["M"]],
            sch.wideYes = pop_sw[["Yes"]], comp.impYes = pop_ci[["Yes"]])
margins <- list(as.data.frame(table(stype = apipop$stype)),
                as.data.frame(table(sch.wide = apipop$sch.wide)),
                as.data.frame(table(comp.imp = apipop$comp.imp)))
apistrat$hi700 <- as.numeric(apistrat$api00 > 700)
apiclus1$hi700 <- as.numeric(apiclus1$api00 > 700)

d0 <- svydesign(id = ~1, weights = ~pw, data = apistrat)
raked <- rake(d0, list(~stype, ~sch.wide, ~comp.imp), margins,
              control = list(maxit = 100, epsilon = 1e-10))
c1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
raked_c1 <- rake(c1, list(~stype, ~sch.wide), margins[1:2],
                 control = list(maxit = 100, epsilon = 1e-10))
designs <- list(
  rake3_trim20_60 = trimWeights(raked, lower = 20, upper = 60),
  rake3_trim_upper50_strict = trimWeights(raked, upper = 50, strict = TRUE),
  calib_raking_trim20_60 = trimWeights(
    calibrate(d0, ~stype + sch.wide + comp.imp, totals, calfun = "raking",
              epsilon = 1e-12, maxit = 100),
    lower = 20, upper = 60),
  calib_linear_trim_upper50 = trimWeights(
    calibrate(d0, ~stype + sch.wide + comp.imp, totals, calfun = "linear"),
    upper = 50),
  poststrat_stype_trim_upper40 = trimWeights(
    postStratify(d0, ~stype, data.frame(stype = names(pop_stype),
                                        Freq = as.vector(pop_stype))),
    upper = 40),
  clus1_rake2_trim_upper45 = trimWeights(raked_c1, upper = 45)
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
  w <- data.frame(snum = d$variables$snum, w = weights(d))
  write.csv(w, paste0("weights_", case, ".csv"), row.names = FALSE)
}
out <- do.call(rbind, rows)
write.csv(out, "estimates_trim.csv", row.names = FALSE)
