/**
 * The core as the extension host sees it: the one entry of the core bundle (dist/core.js), loaded
 * on first use through src/adapters/core.ts and nowhere else. One namespace per module, so an
 * adapter names where a function lives (`core.ledgerRun.runLedger`). A module the adapters need is
 * added here; importing core values any other way from src/adapters is a lint error.
 */
export * as errors from './errors';
export * as allsCatalog from './hailo/alls/catalog';
export * as allsLanguage from './hailo/alls/language';
export * as allsLayers from './hailo/alls/layers';
export * as allsParser from './hailo/alls/parser';
export * as allsValidate from './hailo/alls/validate';
export * as dfcLogDiagnostics from './hailo/dfcLogDiagnostics';
export * as placement from './placement';
export * as dfcLogReport from './hailo/dfcLogReport';
export * as sourceMap from './graph/sourceMap';
export * as graphView from './graph/view';
export * as lintFile from './analysis/lintFile';
export * as lintRules from './analysis/lintRules';
export * as ruleDocs from './analysis/ruleDocs';
export * as quickFixes from './analysis/quickFixes';
export * as nodeNames from './analysis/nodeNames';
export * as onnx from './onnx';
export * as summary from './summary/summarize';
export * as ledger from './analysis/ledger';
export * as ledgerRun from './analysis/ledgerRun';
export * as projectLoad from './project/load';
export * as projectTemplate from './project/template';
export * as artifacts from './project/artifacts';
export * as exportSpec from './export/spec';
export * as exportInterpreter from './export/interpreter';
export * as exportRun from './export/run';
export * as pythonSource from './export/pythonSource';
export * as envelope from './protocol/envelope';
export * as modelEditorProtocol from './protocol/modelEditor';
export * as remoteDfc from './remote/dfc';
export * as remoteLogLines from './remote/logLines';
export * as remotePipeline from './remote/pipeline';
export * as remoteProblems from './remote/problems';
export * as remoteRun from './remote/run';
export * as remoteSsh from './remote/ssh';
export * as remoteTargets from './remote/targets';
export * as remoteResults from './remote/results';
export * as runCompare from './remote/runCompare';
export * as remoteDevice from './remote/device';
export * as deviceResultsProtocol from './protocol/deviceResults';
export * as fidelityResultsProtocol from './protocol/fidelityResults';
export * as fidelityCheck from './fidelity/check';
export * as fidelityDriver from './fidelity/driver';
export * as fidelityOnnx from './fidelity/onnxStage';
export * as fidelityFindings from './fidelity/findings';
export * as fidelityRecord from './fidelity/record';
export * as fidelityRemote from './fidelity/remoteRun';
export * as fidelityStore from './fidelity/store';
export * as fidelityResultsView from './fidelity/resultsView';
export * as fidelityRewrites from './fidelity/rewriteLinks';
export * as fidelityLocation from './fidelity/location';
export * as slurmSweep from './slurm/sweep';
export * as slurmSweepRun from './slurm/sweepRun';
export * as sweepResultsProtocol from './protocol/sweepResults';
