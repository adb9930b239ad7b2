/*
 * Live severity calculator (progressive enhancement; the form works without it).
 *
 * For every <form> holding a <fieldset data-severity-calculator>, reads the choices of the
 * <select> or radio inputs named severity_<key> and writes the vector, score and band into
 * [data-severity-vector], [data-severity-score] and [data-severity-band] inside that fieldset.
 *
 * The weights come from the fieldset's data-severity-weights attribute, rendered from
 * incidents.severity.formula_for_js(), so Python stays the single source of truth.
 * scoreTenths() must stay arithmetically identical to _score_tenths() in incidents/severity.py:
 * integers only (BigInt, because the products exceed 2^53), so both agree to the last digit.
 */
(function () {
  "use strict";

  var DASH = "\u2014"; // what the server renders when there is no complete vector

  if (typeof BigInt !== "function") {
    return; // very old browser: keep the server-rendered result and the "Calculate" button
  }

  function maxWeight(weights) {
    return Math.max.apply(null, Object.keys(weights).map(function (code) { return weights[code]; }));
  }

  // Same as _score_tenths() in incidents/severity.py.
  function scoreTenths(formula, chosen) {
    var scale = BigInt(formula.scale);
    var full = BigInt(1);
    var product = BigInt(1);
    var worst = BigInt(1);
    formula.metrics.forEach(function (metric) {
      full *= scale;
      product *= scale - BigInt(metric.weights[chosen[metric.code]]);
      worst *= scale - BigInt(maxWeight(metric.weights));
    });
    var numerator = BigInt(100) * (full - product);
    var denominator = full - worst;
    // floor(n/d + 1/2), i.e. ROUND_HALF_UP; BigInt division truncates and both are >= 0.
    return Number((BigInt(2) * numerator + denominator) / (BigInt(2) * denominator));
  }

  function bandFor(formula, tenths) {
    var band = formula.bands[0][0];
    formula.bands.forEach(function (entry) {
      if (tenths >= entry[1]) {
        band = entry[0];
      }
    });
    return band;
  }

  function formatTenths(tenths) {
    return Math.floor(tenths / 10) + "." + (tenths % 10);
  }

  // The chosen value code of one metric, or null when nothing valid is chosen.
  function choiceOf(fieldset, metric) {
    var inputs = fieldset.querySelectorAll('[name="severity_' + metric.key + '"]');
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      var isRadio = input.type === "radio";
      if ((!isRadio || input.checked) && input.value &&
          Object.prototype.hasOwnProperty.call(metric.weights, input.value)) {
        return input.value;
      }
    }
    return null;
  }

  function write(fieldset, selector, text) {
    var target = fieldset.querySelector(selector);
    if (target) {
      target.textContent = text;
    }
  }

  function update(fieldset, formula) {
    var chosen = {};
    var parts = [formula.prefix];
    var complete = formula.metrics.every(function (metric) {
      var value = choiceOf(fieldset, metric);
      chosen[metric.code] = value;
      parts.push(metric.code + ":" + value);
      return value !== null;
    });
    if (!complete) {
      write(fieldset, "[data-severity-vector]", DASH);
      write(fieldset, "[data-severity-score]", DASH);
      write(fieldset, "[data-severity-band]", DASH);
      return;
    }
    var tenths = scoreTenths(formula, chosen);
    var band = bandFor(formula, tenths);
    write(fieldset, "[data-severity-vector]", parts.join("/"));
    write(fieldset, "[data-severity-score]", formatTenths(tenths));
    write(fieldset, "[data-severity-band]", formula.band_labels[band] || band);
  }

  function init(fieldset) {
    var formula;
    try {
      formula = JSON.parse(fieldset.dataset.severityWeights || "");
    } catch (error) {
      return; // no usable formula: leave the server-rendered result alone
    }
    if (!formula || !Array.isArray(formula.metrics) || !Array.isArray(formula.bands)) {
      return;
    }
    var refresh = function () { update(fieldset, formula); };
    fieldset.addEventListener("change", refresh);
    fieldset.addEventListener("input", refresh);
    refresh(); // the browser may have restored earlier choices
  }

  Array.prototype.forEach.call(document.querySelectorAll("form [data-severity-calculator]"), init);
})();
