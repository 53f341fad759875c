// Package scores computes CSAT, NPS and CES summary scores from survey
// ratings. It is pure: no I/O, no clock, no global state, only the standard
// library. The engine reads stored responses, turns each into an
// Observation and feeds an Accumulator; the Results go into a summary table.
//
// Survey tools do not agree on what these scores mean. The same label hides
// different thresholds, different denominators and, for CES, opposite ends
// of the scale. So every score here comes from an explicit Definition
// (metric, variant, scale, thresholds, polarity), every Result repeats that
// definition in words together with the counts behind the number, and the
// same responses always give the same numbers, whatever order they are read
// in.
//
// # NPS
//
// Net Promoter Score asks how likely the respondent is to recommend, on
// 0–10. Answers of 9–10 are promoters, 7–8 passives and 0–6 detractors, and
// NPS = % promoters − % detractors, from −100 to 100. Passives count in the
// denominator only, so they pull the score toward zero. These buckets are
// what Retently, Agero, Litmus and Workestra publish; Workestra lets them be
// changed, and so does Definition.Positive (lowest promoter answer) and
// Definition.Negative (highest detractor answer). Nicereply's wording
// leaves a 6 in no bucket; like most sources we count it as a detractor.
// The Mean variant reports the average answer instead, which is not NPS but
// is sometimes wanted beside it.
//
// # CSAT
//
// CSAT asks how satisfied the respondent is, usually on 1–5. Four formulas
// are in use:
//
//   - PercentSatisfied, the usual "CSAT %": answers at or above the positive
//     threshold ÷ all valid answers × 100. Delighted, Retently, Nicereply
//     (its "Satisfaction score"), SogoSurvey and Haptik count 4–5 as
//     satisfied on 1–5, and a neutral 3 stays in the denominator. Delighted
//     rounds to a whole number; this package does not round, so that the
//     presentation decides.
//   - GoodBad, the helpdesk convention: good ÷ (good + bad) × 100. Zendesk
//     rates each ticket good or bad; on 1–5 it counts 4–5 as good and 1–3 as
//     bad, which is the default here (on 1–3 and 1–2 the top answer is good).
//     Answers between the two thresholds count in neither good nor bad.
//     Unrated tickets are left out by Zendesk too; here an unrated response
//     never becomes an Observation. The same data gives a different
//     percentage under PercentSatisfied, whose denominator keeps neutrals.
//   - Composite: the sum of all ratings ÷ the sum of the highest possible
//     ratings × 100, so ten answers on 1–5 adding up to 35 score 35/50 = 70.
//     This is Zykrr's "CSAT on multiple dimensions": feed one Observation
//     per answered dimension. All dimensions must share the definition's
//     scale; Microsoft and Kustomer rescale other scales to five points
//     first, which the mapping's value maps can do upstream.
//   - Mean: the average rating, Nicereply's "Average CSAT" and Intercom's
//     averaged conversation rating.
//
// # CES
//
// Customer Effort Score is the least settled. Vendors publish at least these
// variants, and a CES Definition must therefore name its variant and scale
// (HighIsGood defaults to true):
//
//   - Mean: CES 2.0 asks for agreement with "the company made it easy for me
//     to handle my issue" on 1–7 and averages the answers (Nicereply's
//     support article, Benbria's 5-point "out of 5").
//   - PercentAgree: answers on the agreeing side ÷ all answers × 100.
//     Delighted counts 5–7 on its 7-point scale and 4–5 on its 5-point
//     scale; Simplesat's adaptation of Gartner's formula also counts 5 and
//     above on 1–7. These are the defaults on 1–7 and 1–5.
//   - Index: % positive − % negative with neutral answers in the
//     denominator only, the same shape as NPS (Nicereply's blog, CYS
//     Group's "index" method). Defaults: 5–7 positive and 1–3 negative on
//     1–7; 4–5 and 1–2 on 1–5.
//
// Some surveys ask "how much effort did it take" with 1 as the best answer
// (Hexia: 1–2 is low effort, 4–5 high). Set HighIsGood to false: positive
// then means at or below Positive and negative at or above Negative, with
// defaults 1–2 and 4–5 on 1–5. A mean on such a scale is still the plain
// mean, and lower is better.
//
// # Scales and invalid values
//
// A Scale is any min–max range (1–5, 0–10, 1–7, 1–10, -2–2, …). Stars,
// emoji and labels are turned into numbers by the mapping's value maps
// before they get here. Ratings are whole numbers unless the definition
// sets Fractional. A value that is NaN, infinite, outside the scale or, on
// a whole-number scale, not a whole number is invalid: it is excluded from
// the score and counted in Result.Invalid, never clamped or rounded.
// Invalid values also take no part in deduplication, so they can never
// change a score.
//
// # Periods and segments
//
// Options.Period groups observations by day, ISO week (Monday to Sunday,
// labelled 2026-W47, with the ISO week-numbering year so that 2027-01-01
// falls in 2026-W53), month, quarter, year, a rolling window of N days
// ending at Options.AsOf (Delighted's "30-day score"), or all at once. The
// boundaries are local midnights in Options.Location, built with calendar
// arithmetic: a day in Europe/Berlin is 23 hours long on the last Sunday of
// March and 25 on the last Sunday of October, and a 30-day rolling window
// keeps its wall-clock time across a change. Where a zone skips midnight
// altogether, the period starts at the first instant that exists, and
// every instant still belongs to exactly one period.
//
// Options.GroupBy names response fields, such as agent, channel or survey;
// each Observation carries their values in Segment and each distinct
// combination gets its own Result, as Retently's and Litmus's dashboard
// filters recompute a score per cohort.
//
// # One response per contact
//
// A contact with several conversations may answer the same survey several
// times, which SurveyMonkey and others throttle at send time. With
// Options.DedupeByContact only each contact's latest valid answer counts in
// each Result (one period and segment): the later At wins, then the greater
// response Key, then the greater value, so the outcome never depends on the
// order responses are read in. Answers without a contact are never merged.
// Result.Deduplicated counts the answers dropped.
//
// # Margin of error
//
// Every Result carries the half-width of a 95 % confidence interval by the
// normal approximation, with z = 1.96: for a proportion p of n answers,
// 1.96·√(p(1−p)/n)×100; for NPS and other indexes, with p₊ and p₋ the
// positive and negative shares, 1.96·√((p₊ + p₋ − (p₊ − p₋)²)/n)×100, the
// variance of a per-answer score of +1, 0 or −1; for a mean,
// 1.96·s/√n with the sample standard deviation s (and for composite the
// same relative to the scale maximum, ×100). With 50 promoters, 30 passives
// and 20 detractors of 100, NPS is 30 ± 15.3. The approximation is rough
// for small n or shares near 0 or 1; read it together with N.
//
// # Determinism and speed
//
// Each Result is computed from a histogram of the ratings in its group,
// summed in rating order, so reordering observations does not change even
// the last bit of a score. Results are sorted by period start and then by
// segment values. The Accumulator keeps no observations, only the
// histograms (and each contact's latest answer when deduplicating), and
// scores a million observations in well under a second; see
// BenchmarkCompute1M.
package scores
