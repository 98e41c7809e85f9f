import { mount } from "svelte";
import "highlight.js/styles/github.css";
import "./app.css";
import App from "./App.svelte";

mount(App, { target: document.getElementById("app")! });
