// The spiffworkflow extension elements (namespace http://spiffworkflow.org/bpmn/schema/1.0/core) as a bpmn-js
// moddle package, so that the modeler reads and writes them as typed elements: the ones SpiffWorkflow 3.2 reads
// (its schema spiff/parser/schema/spiffworkflow.xsd and spiff/parser/task_spec.py). A fangpin user task carries
// <spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="…"/> and
// name="dueDate"; a business rule task <spiffworkflow:calledDecisionId>. Every element of the namespace must be
// declared here: bpmn-js drops (with an import warning) an element of a known namespace it has no type for.
(function (root) {
  "use strict";
  function text(name) {  // an element whose content is a text
    return { name: name, superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] };
  }
  function attributes(name, names) {
    return { name: name, superClass: ["Element"], properties: names.map(function (attr) {
      return { name: attr, type: "String", isAttr: true };
    }) };
  }
  function list(name, property, type) {
    return { name: name, superClass: ["Element"], properties: [{ name: property, type: type, isMany: true }] };
  }
  var moddle = {
    name: "SpiffWorkflow",
    prefix: "spiffworkflow",
    uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [
      text("CalledDecisionId"), text("InstructionsForEndUser"), text("MessagePayload"), text("MessageVariable"),
      text("PayloadExpression"), text("VariableName"), text("PreScript"), text("PostScript"), text("Category"),
      text("SignalButtonLabel"), text("AllowGuest"), text("GuestConfirmation"),
      list("Properties", "properties", "Property"), attributes("Property", ["name", "value"]),
      list("UnitTests", "unitTests", "UnitTest"),
      { name: "UnitTest", superClass: ["Element"], properties: [
        { name: "id", type: "String", isAttr: true },
        { name: "inputJson", type: "InputJson" }, { name: "expectedOutputJson", type: "ExpectedOutputJson" }] },
      text("InputJson"), text("ExpectedOutputJson"),
      { name: "ServiceTaskOperator", superClass: ["Element"], properties: [
        { name: "id", type: "String", isAttr: true }, { name: "resultVariable", type: "String", isAttr: true },
        { name: "parameterList", type: "Parameters" }, { name: "retry", type: "Retry" }] },
      list("Parameters", "parameters", "Parameter"), attributes("Parameter", ["id", "type", "value"]),
      attributes("Retry", ["retries", "backoff_base"]),
      list("TaskMetadataValues", "values", "TaskMetadataValue"), attributes("TaskMetadataValue", ["name", "value"]),
      { name: "ProcessVariableCorrelation", superClass: ["Element"], properties: [
        { name: "propertyId", type: "PropertyId" }, { name: "expression", type: "Expression" }] },
      text("PropertyId"), text("Expression"),
      { name: "ScriptsOnInstances", isAbstract: true, extends: ["bpmn:MultiInstanceLoopCharacteristics"],
        properties: [{ name: "scriptsOnInstances", type: "Boolean", isAttr: true }] }
    ]
  };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = moddle;  // node (a round-trip check of the shipped diagrams)
  } else {
    root.fangpinSpiffModdle = moddle;
  }
})(this);
